"""WriteVariableGeotiff: GCBM's per-block indicator GeoTIFFs, and whole-study-area COGs.

Each enabled item of `modules_output.json` (a variable, a sum of pools, or signed sums of flux
groups) becomes one GeoTIFF per block and step, named and laid out as GCBM does
(`<item>/<lon>_<lat>/<item>_<lon>_<lat>_<block>_<step>.tif`, FLINT's writevariablegeotiff.cpp).
After the run, `write_mosaics` turns each item and step into a Cloud-Optimized GeoTIFF of the
whole study area (`cog/<item>_<year>.tif`), which web maps and QGIS read directly.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import rasterio
import rasterio.shutil
import tifffile
from affine import Affine

from flintcloud.flint.config import ConfigView
from flintcloud.io.files import atomic_path
from flintcloud.io.geotiff import WGS84, write_geotiff
from flintcloud.models.gcbm.pools import POOL_BY_NAME

# variable_data_type -> NumPy type, as WriteVariableGeotiff maps them (Int64 and UInt64 are
# written as 32-bit, any unknown name as Int16).
DATA_TYPES = {"UInt8": np.uint8, "UInt16": np.uint16, "Int16": np.int16, "Int32": np.int32,
              "UInt32": np.uint32, "Int64": np.int32, "UInt64": np.uint32, "float": np.float32,
              "double": np.float64}
NOTIFICATIONS = {"OutputStep", "TimingInit"}
FLUX_SOURCES = {"disturbance", "annual_process"}
ITEM_KEYS = {"data_name", "enabled", "variable_data_type", "on_notification", "variable_name",
             "pool_name", "flux", "apply_area_adjustment", "subtract_previous_value",
             "nodata_value", "output_annual_only", "output_interval", "output_path",
             "force_variable_folder_name"}
SETTINGS_KEYS = {"items", "output_path", "apply_area_adjustment", "force_variable_folder_name"}
VARIABLES = {"age", "landUnitArea"}
MIN_OVERVIEW_SIZE = 1024  # pixels: smaller mosaics get no overviews  # per-pixel variables the engine keeps for every step


def default_nodata(dtype: type) -> float:
    """lowest() for integers, -10**max_exponent10 for floats (-1e38 float32, -1e308 float64)."""
    if np.issubdtype(dtype, np.integer):
        return int(np.iinfo(dtype).min)
    return float(dtype(-(10.0 ** int(np.log10(np.finfo(dtype).max)))))


@dataclass(frozen=True)
class FluxGroup:
    """Fluxes from any of `sources` to any of `sinks` (empty: any pool), of one kind, ± signed."""

    sources: frozenset[int]
    sinks: frozenset[int]
    kind: str  # "any", "disturbance" or "annual_process"
    disturbance_types: frozenset[str]  # only with kind "disturbance"; empty: all
    subtract: bool

    def matches(self, key: tuple[str, int, int, int], type_names) -> bool:
        _, dist, source, sink = key
        if source == sink:
            return False
        if self.kind == "disturbance" and (dist < 0 or (
                self.disturbance_types and type_names[dist] not in self.disturbance_types)):
            return False
        if self.kind == "annual_process" and dist >= 0:
            return False
        return (not self.sources or source in self.sources) and \
            (not self.sinks or sink in self.sinks)


@dataclass(frozen=True)
class OutputItem:
    name: str
    dtype: type
    nodata: float
    at_init: bool  # on_notification TimingInit: one file, step 0
    variable: str | None
    pools: tuple[int, ...]
    fluxes: tuple[FluxGroup, ...]
    area_adjustment: bool
    subtract_previous: bool
    folder: Path  # output path, already including the item folder


def read_output_items(module: ConfigView, output_dir: Path) -> list[OutputItem]:
    """The enabled items of a WriteVariableGeotiff module; unsupported settings are errors."""
    settings = module.child("settings")
    for key, _ in settings.items():
        if key not in SETTINGS_KEYS:
            raise settings.error(f"setting {key!r} is not supported", key)
    area = settings.boolean("apply_area_adjustment", False)
    force_folder = settings.boolean("force_variable_folder_name", True)
    items = []
    for element in settings.child("items").elements():
        element.expect_object()
        if not element.boolean("enabled", True):
            continue
        items.append(_item(element, output_dir, area, force_folder))
    names = [item.name for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise settings.error(f"items share data_name {duplicates}: their files would overwrite "
                             "each other", "items")
    return items


def _item(element: ConfigView, output_dir: Path, area: bool, force_folder: bool) -> OutputItem:
    for key, _ in element.items():
        if key not in ITEM_KEYS:
            raise element.error(f"item setting {key!r} is not supported", key)
    name = element.string("data_name")
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise element.error(f"data_name {name!r} must be a plain file name", "data_name")
    dtype = DATA_TYPES.get(element.string("variable_data_type"), np.int16)
    notification = element.string("on_notification", "TimingInit")
    if notification not in NOTIFICATIONS:
        raise element.error(f"on_notification {notification!r} is not supported",
                            "on_notification", hint=f"supported: {sorted(NOTIFICATIONS)}")
    for key in ("output_annual_only", "output_interval"):
        if key in element and element.get(key) not in (False, 1):
            raise element.error(f"{key} is not supported (annual steps only)", key)
    if "output_path" in element:
        raise element.error("a per-item output_path is not supported", "output_path")
    variable = element.string("variable_name", "") or None
    pools = tuple(_pool(element, "pool_name", name) for name in _names(element, "pool_name"))
    fluxes = tuple(_flux_group(group) for group in _groups(element))
    kinds = sum(bool(x) for x in (variable, pools, fluxes))
    if kinds != 1:
        raise element.error("an item needs exactly one of variable_name, pool_name, flux")
    if variable is not None and variable not in VARIABLES:
        raise element.error(f"variable {variable!r} cannot be written per pixel", "variable_name",
                            hint=f"supported: {sorted(VARIABLES)}")
    nodata = element.number("nodata_value") if "nodata_value" in element else default_nodata(dtype)
    folder = output_dir / name if force_folder else output_dir
    return OutputItem(name, dtype, nodata, notification == "TimingInit", variable, pools, fluxes,
                      element.boolean("apply_area_adjustment", area),
                      element.boolean("subtract_previous_value", False), folder)


def _names(view: ConfigView, key: str) -> list[str]:
    if key not in view:
        return []
    value = view.get(key)
    return [value] if isinstance(value, str) else [e.value for e in view.child(key).elements()]


def _pool(view: ConfigView, key: str, name: str) -> int:
    if name not in POOL_BY_NAME:
        raise view.error(f"no pool named {name!r}", key)
    return int(POOL_BY_NAME[name])


def _groups(element: ConfigView) -> list[ConfigView]:
    if "flux" not in element:
        return []
    flux = element.child("flux")
    return list(flux.elements()) if isinstance(flux.value, list) else [flux]


def _flux_group(group: ConfigView) -> FluxGroup:
    group.expect_object()
    for key, _ in group.items():
        if key not in ("from", "to", "flux_source", "subtract", "disturbance_types"):
            raise group.error(f"flux setting {key!r} is not supported", key)
    kind = group.string("flux_source", "any").lower()
    if kind not in FLUX_SOURCES | {"any"}:
        kind = "any"  # as upstream: an unknown source means all fluxes
    return FluxGroup(frozenset(_pool(group, "from", n) for n in _names(group, "from")),
                     frozenset(_pool(group, "to", n) for n in _names(group, "to")), kind,
                     frozenset(_names(group, "disturbance_types")) if kind == "disturbance"
                     else frozenset(), group.boolean("subtract", False))


def tile_label(x: int, y: int) -> str:
    """GCBM's tile folder label: sign and 3 digits each, e.g. -106_055."""
    return f"{'-' if x < 0 else ''}{abs(x):03d}_{'-' if y < 0 else ''}{abs(y):03d}"


class BlockGeotiffWriter:
    """Writes every item's GeoTIFFs for each simulated block it is given (an `on_block` sink,
    picklable: under Dask each worker writes its blocks and returns what it wrote)."""

    def __init__(self, items: list[OutputItem], grid, *, staged: bool = False) -> None:
        """`staged`: the items' folders are in a staging directory that is moved into place
        when the run completes, so single files need no atomic rename of their own."""
        self.items = items
        self.grid = grid
        self.staged = staged
        self.written: dict[tuple[str, int], list[tuple[Path, object]]] = defaultdict(list)

    def collect(self, receipt: list[tuple[tuple[str, int], Path, object]]) -> None:
        """Record files a (possibly remote) call wrote."""
        for key, path, window in receipt:
            self.written[key].append((path, window))

    def __call__(self, block) -> list[tuple[tuple[str, int], Path, object]]:
        return [entry for item in self.items for entry in self._write_item(item, block)]

    def _write_item(self, item: OutputItem, block) -> list[tuple[tuple[str, int], Path, object]]:
        """One item's files for one block: one per step (TimingInit items: step 0 only)."""
        window = block.window
        n_steps = block.trajectory.age.shape[0] - 1
        label = tile_label(window.tile.x, window.tile.y)
        folder = item.folder / label
        folder.mkdir(parents=True, exist_ok=True)
        transform = Affine(self.grid.cell_lon, 0.0, window.west, 0.0, -self.grid.cell_lat,
                           window.north)
        signs = self._flux_signs(item, block.trajectory.flux_keys,
                                 block.data.parameters.params.disturbances.type_names)
        written, previous = [], None
        for step in [0] if item.at_init else range(1, n_steps + 1):
            values = self._pixel_values(item, block, step, signs)
            stored = values
            if item.subtract_previous and previous is not None:
                # upstream subtracts its previous stored file in the item's type
                stored = (values - previous).astype(item.dtype)
            previous = values
            raster = np.full(window.n_rows * window.n_cols, item.nodata, dtype=item.dtype)
            raster[block.data.cell_index] = stored
            path = folder / f"{item.name}_{label}_{window.block_idx:02d}_{step}.tif"
            write_geotiff(path, raster.reshape(window.n_rows, window.n_cols), transform,
                          item.nodata, atomic=not self.staged)
            written.append(((item.name, step), path, window))
        return written

    @staticmethod
    def _flux_signs(item: OutputItem, keys, type_names) -> list[tuple[int, float]]:
        """(flux key index, ±1) of every flux key the item's groups count."""
        signs = []
        for k, key in enumerate(keys):
            sign = sum(-1.0 if group.subtract else 1.0 for group in item.fluxes
                       if group.matches(key, type_names))
            if sign:
                signs.append((k, sign))
        return signs

    def _pixel_values(self, item: OutputItem, block, step: int, signs) -> np.ndarray:
        """The item's value for each simulated pixel of the block, in its type, as GCBM stores it:
        the sum in double, cast to the type, then (optionally) times the pixel's area."""
        if item.variable == "landUnitArea":
            values = block.data.area_ha.astype(item.dtype)
        else:
            values = block.pixel_values(self._stand_values(item, block.trajectory, step, signs))
        if item.area_adjustment:
            values = (values * block.data.area_ha).astype(item.dtype)
        return values

    def _stand_values(self, item: OutputItem, trajectory, step: int, signs) -> np.ndarray:
        if item.variable == "age":
            return trajectory.age[step].astype(item.dtype)
        if item.pools:
            total = np.zeros(trajectory.age.shape[1], dtype=np.float64)
            for pool in item.pools:  # summed in the listed order, as GCBM does
                total = total + trajectory.pools[step, pool]
            return total.astype(item.dtype)
        total = np.zeros(trajectory.age.shape[1], dtype=np.float64)
        if step == 0:
            return total.astype(item.dtype)
        fluxes = trajectory.fluxes[step - 1]
        for k, sign in signs:
            total = total + sign * fluxes[k]
        return total.astype(item.dtype)


def write_mosaics(written: dict[tuple[str, int], list[tuple[Path, object]]], items: list[OutputItem],
                  grid, folder: Path, start_year: int) -> list[Path]:
    """One Cloud-Optimized GeoTIFF per item and step over all written blocks:
    `<folder>/<item>_<year>.tif` (`<item>_init.tif` for TimingInit items)."""
    by_name = {item.name: item for item in items}
    paths = []
    for (name, step), blocks in sorted(written.items()):
        item = by_name[name]
        label = "init" if item.at_init else str(start_year + step - 1)
        paths.append(_mosaic(blocks, item, grid, folder / f"{name}_{label}.tif"))
    return paths


_GDAL_TYPES = {np.float32: "Float32", np.float64: "Float64", np.int16: "Int16", np.int32: "Int32",
               np.uint8: "Byte", np.uint16: "UInt16", np.uint32: "UInt32"}


def _vrt(blocks: list[tuple[Path, object]], item: OutputItem, grid) -> tuple[str, int, int]:
    """A VRT placing each block file in the study area's bounding box: (xml, width, height)."""
    west = min(window.west for _, window in blocks)
    north = max(window.north for _, window in blocks)

    def offset(window) -> tuple[int, int]:
        return round((window.west - west) / grid.cell_lon), round((north - window.north) / grid.cell_lat)

    width = max(offset(w)[0] + w.n_cols for _, w in blocks)
    height = max(offset(w)[1] + w.n_rows for _, w in blocks)
    sources = "".join(
        f'<SimpleSource><SourceFilename relativeToVRT="0">{escape(str(p.resolve()))}'
        f"</SourceFilename><SourceBand>1</SourceBand>"
        f'<SrcRect xOff="0" yOff="0" xSize="{w.n_cols}" ySize="{w.n_rows}"/>'
        f'<DstRect xOff="{offset(w)[0]}" yOff="{offset(w)[1]}" xSize="{w.n_cols}" '
        f'ySize="{w.n_rows}"/></SimpleSource>' for p, w in blocks)
    xml = (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">'
           f"<SRS>{escape(WGS84.to_wkt())}</SRS>"
           f"<GeoTransform>{west!r}, {grid.cell_lon!r}, 0, {north!r}, 0, {-grid.cell_lat!r}"
           f'</GeoTransform><VRTRasterBand dataType="{_GDAL_TYPES[item.dtype]}" band="1">'
           f"<NoDataValue>{item.nodata!r}</NoDataValue>{sources}</VRTRasterBand></VRTDataset>")
    return xml, width, height


def _mosaic(blocks: list[tuple[Path, object]], item: OutputItem, grid, path: Path) -> Path:
    """The blocks as one Cloud-Optimized GeoTIFF, renamed into place.

    Up to MIN_OVERVIEW_SIZE pixels a side the mosaic is assembled in memory and written like
    the blocks (tiled, IFD before the data: a COG that needs no overviews); larger ones go
    through a VRT, which GDAL's COG driver streams and gives overviews.
    """
    if len(blocks) == 1:  # the block file is written tiled and IFD-first: it already is a COG
        with atomic_path(path) as temporary:
            shutil.copyfile(blocks[0][0], temporary)
        return path
    xml, width, height = _vrt(blocks, item, grid)
    if max(width, height) <= MIN_OVERVIEW_SIZE:
        return _small_mosaic(blocks, item, grid, path, width, height)
    with atomic_path(path) as temporary:
        vrt_path = temporary.with_suffix(".vrt")
        vrt_path.write_text(xml)
        try:
            # no predictor and every core compressing: half the time of GDAL's defaults on
            # indicator mosaics, which are mostly nodata and compress well without one
            with rasterio.Env(GDAL_PAM_ENABLED="NO"):
                rasterio.shutil.copy(vrt_path, temporary, driver="COG", COMPRESS="DEFLATE",
                                     BLOCKSIZE="256", NUM_THREADS="ALL_CPUS",
                                     OVERVIEW_RESAMPLING="NEAREST")
        finally:
            vrt_path.unlink(missing_ok=True)
    return path


def _small_mosaic(blocks, item: OutputItem, grid, path: Path, width: int, height: int) -> Path:
    west = min(window.west for _, window in blocks)
    north = max(window.north for _, window in blocks)
    mosaic = np.full((height, width), item.nodata, dtype=item.dtype)
    for block_path, window in blocks:
        row = round((north - window.north) / grid.cell_lat)
        col = round((window.west - west) / grid.cell_lon)
        mosaic[row:row + window.n_rows, col:col + window.n_cols] = tifffile.imread(block_path)
    transform = Affine(grid.cell_lon, 0.0, west, 0.0, -grid.cell_lat, north)
    return write_geotiff(path, mosaic, transform, item.nodata)
