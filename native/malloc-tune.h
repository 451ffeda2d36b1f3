// tuneMalloc(mmapThreshold) → boolean: see malloc-tune.cc.
#pragma once

#include <napi.h>

namespace lbwatch {

Napi::Value TuneMalloc(const Napi::CallbackInfo& info);

}  // namespace lbwatch
