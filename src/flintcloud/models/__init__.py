"""The FLINT examples built on the engine: the Point test modules and RothC (GCBM lives in
`flintcloud.gcbm`). Models import `flintcloud.flint` and `flintcloud.io`; nothing above.
"""
