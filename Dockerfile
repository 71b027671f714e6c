# plumbob's image: `docker build -t plumbob .` (docs/image.md).
#
# One build, two stages: the first builds the wheel from this tree, the second installs that
# wheel (and its dependencies from the package index) into a slim Python and runs as a
# non-root user. The base is pinned by digest so that a rebuild gets the same base; refresh it
# deliberately (docs/image.md says how). tests/delivery/test_image.py runs the RUN steps
# marked `install step` in a clean virtual environment where no container engine is available.
FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# install step: build the wheel
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea
LABEL org.opencontainers.image.title="plumbob" \
      org.opencontainers.image.description="Audit Kubernetes clusters for AI-workload readiness and infrastructure drift" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp
COPY --from=build /dist /dist
# install step: install the wheel with its dependencies
RUN python -m pip install --no-cache-dir /dist/plumbob-*.whl && rm -rf /dist
# the same numeric user as the chart's securityContext (runAsUser 65532); no shell, no home
RUN useradd --uid 65532 --user-group --no-create-home --shell /usr/sbin/nologin plumbob
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["plumbob"]
CMD ["--help"]
