"""FLINT's RothC example library `moja.flint.example.rothc`: soil carbon (Rothamsted model)."""

from flintcloud.models.rothc.modules import PlantResidueModule, RothCModule, SoilCoverModule

LIBRARY = "moja.flint.example.rothc"


def register(registry) -> None:
    for cls in (PlantResidueModule, SoilCoverModule, RothCModule):
        registry.add_module(LIBRARY, cls.__name__, cls)


__all__ = ["PlantResidueModule", "RothCModule", "SoilCoverModule", "register"]
