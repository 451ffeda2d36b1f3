{
  "targets": [
    {
      "target_name": "lbwatch",
      "sources": [
        "addon.cc",
        "bpf-load.cc",
        "libbpf-log.cc",
        "malloc-tune.cc",
        "ns-owner.cc",
        "probe.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "../bpf"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "<!@(pkg-config --cflags libbpf)"],
      "libraries": ["<!@(pkg-config --libs libbpf)"]
    }
  ]
}
