#!/usr/bin/env bash
# Builds the local control plane's binaries from Go modules, once, into a cache outside the repo.
# Idempotent: a binary whose versioned file exists is skipped. Prints what it built and how long it took.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${BACKSNAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/backsnap-ts}"
bin="$cache/bin"
mkdir -p "$bin" "$cache/src"
export CGO_ENABLED=0 GOFLAGS=-trimpath

staging_modules="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api cri-client
cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
sample-apiserver sample-cli-plugin sample-controller streaming"

# build NAME VERSION WRAPPER_SETUP_FN PACKAGE
# The wrapper module exists because `go install` refuses modules with replace directives.
build() {
  local name=$1 version=$2 setup=$3 pkg=$4
  local out="$bin/$name-$version"
  if [[ -x "$out" ]]; then
    echo "cached  $name $version"
  else
    local dir="$cache/src/$name-$version" start=$SECONDS
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && "$setup" "$version" && go build -o "$out.tmp" "$pkg" && mv "$out.tmp" "$out")
    echo "built   $name $version in $((SECONDS - start))s"
  fi
  ln -sf "$out" "$bin/$name"
}

kubernetes_wrapper() {
  printf 'module backsnap-ts/tools/kubernetes\n\ngo 1.26.0\n\nreplace (\n' >go.mod
  for m in $staging_modules; do printf '\tk8s.io/%s => k8s.io/%s %s\n' "$m" "$m" "$KUBERNETES_STAGING_VERSION" >>go.mod; done
  printf ')\n' >>go.mod
  go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$1" "k8s.io/kubernetes/cmd/kube-controller-manager@$1" "k8s.io/kubernetes/cmd/kubectl@$1" >/dev/null 2>&1
}
etcd_wrapper() {
  printf 'module backsnap-ts/tools/etcd\n\ngo 1.26.0\n' >go.mod
  go get -tool "go.etcd.io/etcd/server/v3@$1" >/dev/null 2>&1
}
plain_wrapper() { :; }

total=$SECONDS
build etcd "$ETCD_VERSION" etcd_wrapper go.etcd.io/etcd/server/v3
build kube-apiserver "$KUBERNETES_VERSION" kubernetes_wrapper k8s.io/kubernetes/cmd/kube-apiserver
# Shares the wrapper module of kube-apiserver's build when both are built in one run.
build kube-controller-manager "$KUBERNETES_VERSION" kubernetes_wrapper k8s.io/kubernetes/cmd/kube-controller-manager
# For people looking around the sandbox, and for rendering deploy/ (kubectl kustomize) in tests.
build kubectl "$KUBERNETES_VERSION" kubernetes_wrapper k8s.io/kubernetes/cmd/kubectl
install_plain() {
  local name=$1 module=$2 version=$3 out="$bin/$1-$3"
  if [[ -x "$out" ]]; then echo "cached  $name $version"; else
    local start=$SECONDS
    GOBIN="$cache/src/gobin-$name" go install "$module@$version"
    mv "$cache/src/gobin-$name/$name" "$out"
    echo "built   $name $version in $((SECONDS - start))s"
  fi
  ln -sf "$out" "$bin/$name"
}
install_plain restic github.com/restic/restic/cmd/restic "$RESTIC_VERSION"
install_plain minio github.com/minio/minio "$MINIO_VERSION"
# Renders deploy/helm in tests.
install_plain helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
# released_source DIR TARBALL_NAME VERSION REPOSITORY_URL: a release the module proxy does not serve,
# unpacked from ../shared/third_party, or shallow-cloned at its tag where that file is absent.
released_source() {
  local dir=$1 tarball="$here/../../../shared/third_party/$2-$3.tar.gz"
  rm -rf "$dir" && mkdir -p "$dir"
  if [[ -f "$tarball" ]]; then
    tar -xzf "$tarball" -C "$dir" --strip-components=1
  else
    git clone --quiet --depth 1 --branch "$3" "$4" "$dir"
  fi
}
# The directory of MODULE@VERSION in the module cache, downloaded if need be.
module_dir() {
  go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}
# Metacontroller: the Go module proxy refuses its module, so it is built from the released source
# in ../shared/third_party (or a shallow clone of the tag where that is absent). Its CRDs come along.
install_metacontroller() {
  local version=$1 out="$bin/metacontroller-$1" crds="$cache/crds/metacontroller-$1"
  if [[ -x "$out" && -d "$crds" ]]; then echo "cached  metacontroller $version"; else
    local start=$SECONDS dir="$cache/src/metacontroller-$version"
    released_source "$dir" metacontroller "$version" https://github.com/metacontroller/metacontroller
    (cd "$dir" && go build -o "$out.tmp" ./pkg/cmd/metacontroller && mv "$out.tmp" "$out")
    rm -rf "$crds.tmp" && mkdir -p "$crds.tmp"
    cp "$dir/manifests/production/metacontroller-crds-v1.yaml" "$crds.tmp/"
    rm -rf "$crds" && mv "$crds.tmp" "$crds"
    echo "built   metacontroller $version in $((SECONDS - start))s"
  fi
  ln -sf "$out" "$bin/metacontroller"
  ln -sfn "$crds" "$cache/crds/metacontroller"
}
install_metacontroller "$METACONTROLLER_VERSION"
# The VolumeSnapshot CRDs, as the snapshot controller's client module ships them.
install_crds() {
  local version=$1 out="$cache/crds/external-snapshotter-$1"
  if [[ -d "$out" ]]; then echo "cached  volumesnapshot CRDs $version"; else
    local start=$SECONDS client
    client=$(module_dir "github.com/kubernetes-csi/external-snapshotter/client/v8@$version")
    rm -rf "$out.tmp" && mkdir -p "$out.tmp"
    cp "$client"/config/crd/snapshot.storage.k8s.io_*.yaml "$out.tmp/"
    chmod 644 "$out.tmp"/*.yaml
    mv "$out.tmp" "$out"
    echo "fetched volumesnapshot CRDs $version in $((SECONDS - start))s"
  fi
  ln -sfn "$out" "$cache/crds/external-snapshotter"
}
install_crds "$EXTERNAL_SNAPSHOTTER_VERSION"
# The CSI hostpath driver and the CSI sidecars, run as local processes by test/env/csi.ts.
# The driver is built like Metacontroller, from the released source in ../shared/third_party (or a
# shallow clone of the tag); that source has no vendor/, hence -mod=mod. No cgo: it shells out to
# mount, tar, cp and friends instead.
install_csi_hostpath() {
  local version=$1 out="$bin/hostpathplugin-$1"
  if [[ -x "$out" ]]; then echo "cached  hostpathplugin $version"; else
    local start=$SECONDS dir="$cache/src/hostpathplugin-$version"
    released_source "$dir" csi-driver-host-path "$version" https://github.com/kubernetes-csi/csi-driver-host-path
    # Without a version (its Makefile sets it so) GetPluginInfo fails and the sidecars exit.
    (cd "$dir" && GOFLAGS="$GOFLAGS -mod=mod" go build -ldflags "-X main.version=$version" -o "$out.tmp" ./cmd/hostpathplugin &&
      mv "$out.tmp" "$out")
    echo "built   hostpathplugin $version in $((SECONDS - start))s"
  fi
  ln -sf "$out" "$bin/hostpathplugin"
}
install_csi_hostpath "$CSI_HOSTPATH_VERSION"
# The sidecars' go.mod files have replace directives (go install refuses them), so each is built
# in a writable copy of its module, with its own go.mod and go.sum.
module_source() {
  local source
  source=$(module_dir "$1@$2")
  [[ -d "$source" ]] && cp -r "$source"/. . && chmod -R u+w .
}
provisioner_source() { module_source github.com/kubernetes-csi/external-provisioner/v6 "$1"; }
# external-snapshotter/v8 replaces its client module with ./client, which its module zip leaves out
# (a nested module): point the replace at the client module of the same tag instead.
snapshotter_source() {
  local client=github.com/kubernetes-csi/external-snapshotter/client/v8
  module_source github.com/kubernetes-csi/external-snapshotter/v8 "$1" &&
    go mod edit -replace="$client=$client@$1" && go mod download "$client"
}
build csi-provisioner "$EXTERNAL_PROVISIONER_VERSION" provisioner_source ./cmd/csi-provisioner
build snapshot-controller "$EXTERNAL_SNAPSHOTTER_VERSION" snapshotter_source ./cmd/snapshot-controller
build csi-snapshotter "$EXTERNAL_SNAPSHOTTER_VERSION" snapshotter_source ./cmd/csi-snapshotter
# Root file systems of the images the node agent runs (busybox, restic/restic), from their contents.
bash "$here/build-images.sh" "$cache" "$BUSYBOX_DEB_VERSION" "$RESTIC_VERSION"
echo "tools ready in $bin ($((SECONDS - total))s)"
