"""`python -m bench.scale`: how genostream's costs grow with the study — synthetic studies of the seed's shape
at several sizes (non-zeros), each measured step by step in child processes, exactness checked by an oracle
that streams the study files in bounded memory, peers under a memory limit; resumable (issue 23)."""
