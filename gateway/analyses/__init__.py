"""The questions the gateway answers, each one's SQL beside the Python that finishes it.

ClickHouse does the math; these modules bind parameters and turn sums into statistics. Routes call them;
they know no HTTP.
"""
