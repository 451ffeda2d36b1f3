// nsOwner(path) → { inode, userns }: see ns-owner.cc.
#pragma once

#include <napi.h>

namespace lbwatch {

Napi::Value NsOwner(const Napi::CallbackInfo& info);

}  // namespace lbwatch
