# genogate container image: a Debian 12 slim runtime with only the binary,
# its shared libraries, the pinned FHIR packages and genogate's own data
# (profiles/), running as an unprivileged user. The Helm chart (helm/genogate)
# runs it with a read-only root filesystem.
#
#   docker build -t genogate:0.1.0 .
#   docker run --rm -p 8080:8080 genogate:0.1.0 serve --redis redis://redis:6379/0 ...

# --- build -----------------------------------------------------------------
FROM debian:12-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates openssl \
      libboost1.81-dev rapidjson-dev libxml2-dev libssl-dev zlib1g-dev \
      libhiredis-dev libre2-dev libcli11-dev libfmt-dev libyaml-cpp-dev \
      nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The FHIR packages, verified against profiles/fhir-packages.lock.
RUN GENOGATE_PACKAGE_CACHE=/opt/genogate/packages scripts/fetch-packages.sh
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DGENOGATE_BUILD_TESTS=OFF -DGENOGATE_BUILD_BENCH=OFF \
    && cmake --build /build --target genogate \
    && strip /build/genogate

# --- runtime ---------------------------------------------------------------
FROM debian:12-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      ca-certificates libxml2 libre2-9 zlib1g libhiredis0.14 libyaml-cpp0.7 \
      libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 genogate \
    && useradd --system --uid 10001 --gid genogate --home-dir /var/lib/genogate \
         --shell /usr/sbin/nologin genogate \
    && mkdir -p /var/lib/genogate && chown genogate:genogate /var/lib/genogate
COPY --from=build /build/genogate /usr/local/bin/genogate
COPY --from=build /opt/genogate/packages /usr/share/genogate/packages
COPY profiles /usr/share/genogate/profiles
ENV GENOGATE_PACKAGE_CACHE=/usr/share/genogate/packages \
    GENOGATE_PROFILES_DIR=/usr/share/genogate/profiles
# Build the package indexes now: at run time the root filesystem is
# read-only. This also proves the binary starts and finds its data.
RUN genogate fhirpath "Patient.id" --input /usr/share/genogate/packages/hl7.fhir.r4.examples#4.0.1/package/Patient-example.json >/dev/null
USER 10001:10001
WORKDIR /var/lib/genogate
EXPOSE 8080 2575
ENTRYPOINT ["/usr/local/bin/genogate"]
CMD ["serve", "--config", "/etc/genogate/config/genogate.yaml"]
