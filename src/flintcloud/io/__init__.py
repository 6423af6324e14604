"""File formats only: tiled TIFF and GeoTIFF writers, raster images, archives, atomic files,
run manifests, parameter tables. Knows no model; imports nothing of flintcloud but `errors`.
"""
