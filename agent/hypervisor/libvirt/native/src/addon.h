#pragma once

#include <napi.h>

namespace drover {

// Per-environment addon state.
struct Addon {
  Napi::FunctionReference connectionClass;
};

}  // namespace drover
