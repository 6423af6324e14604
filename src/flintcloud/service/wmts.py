"""A run's maps as an OGC WMTS 1.0.0 GetCapabilities document (RESTful: each layer's
ResourceURL is the XYZ tile URL template), so that QGIS, OpenLayers or OWSLib find every
indicator and year without being told the URL pattern.

The tile matrix set is Web Mercator's GoogleMapsCompatible well-known scale set (WMTS 1.0.0
annex E.4), read from morecantile's WebMercatorQuad: the grid the XYZ tiles are cut on.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

WMTS = "http://www.opengis.net/wmts/1.0"
OWS = "http://www.opengis.net/ows/1.1"
XLINK = "http://www.w3.org/1999/xlink"
TILE_MATRIX_SET = "GoogleMapsCompatible"
WELL_KNOWN_SCALE_SET = "urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible"
WEB_MERCATOR_CRS = "urn:ogc:def:crs:EPSG::3857"


@dataclass(frozen=True)
class WmtsLayer:
    identifier: str          # e.g. "NPP.2012": the indicator and the year label
    title: str
    abstract: str
    bounds_wgs84: tuple[float, float, float, float]  # west, south, east, north
    template: str            # with {TileMatrix}, {TileCol} and {TileRow}


def _element(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attributes)
    if text is not None:
        child.text = text
    return child


def capabilities(title: str, capabilities_url: str, layers: list[WmtsLayer],
                 max_zoom: int) -> bytes:
    """The Capabilities document (UTF-8 XML) of `layers`, tiles from zoom 0 to `max_zoom`."""
    ET.register_namespace("", WMTS)
    ET.register_namespace("ows", OWS)
    ET.register_namespace("xlink", XLINK)
    wmts, ows = f"{{{WMTS}}}", f"{{{OWS}}}"
    root = ET.Element(f"{wmts}Capabilities", {"version": "1.0.0"})
    identification = _element(root, f"{ows}ServiceIdentification")
    _element(identification, f"{ows}Title", title)
    _element(identification, f"{ows}ServiceType", "OGC WMTS")
    _element(identification, f"{ows}ServiceTypeVersion", "1.0.0")
    operations = _element(root, f"{ows}OperationsMetadata")
    for name, href in (("GetCapabilities", capabilities_url), ("GetTile", capabilities_url)):
        get = _element(_element(_element(_element(operations, f"{ows}Operation", name=name),
                                          f"{ows}DCP"), f"{ows}HTTP"), f"{ows}Get",
                       **{f"{{{XLINK}}}href": href})
        constraint = _element(get, f"{ows}Constraint", name="GetEncoding")
        _element(_element(constraint, f"{ows}AllowedValues"), f"{ows}Value", "RESTful")
    contents = _element(root, f"{wmts}Contents")
    for layer in layers:
        _layer(contents, layer)
    _tile_matrix_set(contents, max_zoom)
    _element(root, f"{wmts}ServiceMetadataURL", **{f"{{{XLINK}}}href": capabilities_url})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _layer(contents: ET.Element, layer: WmtsLayer) -> None:
    wmts, ows = f"{{{WMTS}}}", f"{{{OWS}}}"
    element = _element(contents, f"{wmts}Layer")
    _element(element, f"{ows}Title", layer.title)
    _element(element, f"{ows}Abstract", layer.abstract)
    west, south, east, north = layer.bounds_wgs84
    box = _element(element, f"{ows}WGS84BoundingBox")
    _element(box, f"{ows}LowerCorner", f"{west!r} {south!r}")
    _element(box, f"{ows}UpperCorner", f"{east!r} {north!r}")
    _element(element, f"{ows}Identifier", layer.identifier)
    style = _element(element, f"{wmts}Style", isDefault="true")
    _element(style, f"{ows}Identifier", "default")
    _element(element, f"{wmts}Format", "image/png")
    _element(_element(element, f"{wmts}TileMatrixSetLink"), f"{wmts}TileMatrixSet", TILE_MATRIX_SET)
    _element(element, f"{wmts}ResourceURL", format="image/png", resourceType="tile",
             template=layer.template)


def _tile_matrix_set(contents: ET.Element, max_zoom: int) -> None:
    import morecantile

    wmts, ows = f"{{{WMTS}}}", f"{{{OWS}}}"
    grid = morecantile.tms.get("WebMercatorQuad")
    matrix_set = _element(contents, f"{wmts}TileMatrixSet")
    _element(matrix_set, f"{ows}Identifier", TILE_MATRIX_SET)
    _element(matrix_set, f"{ows}SupportedCRS", WEB_MERCATOR_CRS)
    _element(matrix_set, f"{wmts}WellKnownScaleSet", WELL_KNOWN_SCALE_SET)
    for zoom in range(max_zoom + 1):
        matrix = grid.matrix(zoom)
        element = _element(matrix_set, f"{wmts}TileMatrix")
        _element(element, f"{ows}Identifier", str(zoom))
        _element(element, f"{wmts}ScaleDenominator", repr(matrix.scaleDenominator))
        x, y = matrix.pointOfOrigin
        _element(element, f"{wmts}TopLeftCorner", f"{x!r} {y!r}")
        _element(element, f"{wmts}TileWidth", str(matrix.tileWidth))
        _element(element, f"{wmts}TileHeight", str(matrix.tileHeight))
        _element(element, f"{wmts}MatrixWidth", str(matrix.matrixWidth))
        _element(element, f"{wmts}MatrixHeight", str(matrix.matrixHeight))
