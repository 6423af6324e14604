"""A GCBM project as upstream lays it out (gcbm-spec §1-2), read into what `science` needs: the
merged config and provider, tiled layers read per block, SQL variables and the parameter tables
of `gcbm_input.db`. Whatever it opens it closes."""
