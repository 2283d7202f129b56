"""Reading, validating and deriving from asset files: packages, meshes, images."""
