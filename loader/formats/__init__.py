"""One reader per source format, each opening a study as a `loader.source.StudySource`: the MatrixMarket
text layouts (`text`, with the matrix body in `mtx`), AnnData (`h5ad`) and Cell Ranger HDF5 (`tenx_h5`), the
last two on what HDF5 files share (`hdf5`)."""
