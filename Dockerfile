# FLINT Cloud: one image for the API server and the job workers.
#   docker build -t flintcloud .
#   docker run -p 8080:8080 -v flintcloud-data:/data flintcloud            # API + in-process workers
#   docker run -v flintcloud-data:/data flintcloud worker --data-dir /data # an extra worker
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[dask,postgresql]"

FROM python:3.11-slim
# rasterio's wheels bundle GDAL; nothing else from the system is needed.
RUN useradd --create-home --uid 10001 flint && mkdir /data && chown flint /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER flint
# FLINT's reference outputs come from glibc's exp; keep NumPy on its libm-exact code path.
# Numba keeps the compiled spinup in /tmp (the package folder is read-only; /tmp is an emptyDir
# under Kubernetes' read-only root filesystem): compiled once per container, ~8 s.
ENV NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" \
    NUMBA_CACHE_DIR=/tmp/numba \
    FLINTCLOUD_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/check').status != 200)"
ENTRYPOINT ["flintcloud"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--data-dir", "/data"]
