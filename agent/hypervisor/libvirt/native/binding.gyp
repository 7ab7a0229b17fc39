{
  "targets": [
    {
      "target_name": "drover_libvirt",
      "sources": [
        "src/addon.cc",
        "src/connection.cc",
        "src/domains.cc",
        "src/storage.cc",
        "src/networks.cc",
        "src/reboot-events.cc",
        "src/migration.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall"],
      "cflags": ["<!@(pkg-config --cflags libvirt)"],
      "libraries": ["<!@(pkg-config --libs libvirt)"]
    }
  ]
}
