"""Many replications of a scenario: the runner that returns tidy tables, the execution engines (serial,
processes, Dask), background jobs for the app, the warm-up method and the benchmark.
"""
