// tuneMalloc(mmapThreshold) → boolean and trimMalloc() → boolean (memory released): see malloc-tune.cc.
#pragma once

#include <napi.h>

namespace lbwatch {

Napi::Value TuneMalloc(const Napi::CallbackInfo& info);
Napi::Value TrimMalloc(const Napi::CallbackInfo& info);

}  // namespace lbwatch
