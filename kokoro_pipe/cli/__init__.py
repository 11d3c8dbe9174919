"""Console commands: thin click wrappers over the library modules."""
