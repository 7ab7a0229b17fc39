#include <chrono>
#include <mutex>
#include <thread>

#include "addon.h"
#include "connection.h"

namespace drover {

// libvirt needs an event loop, registered before the first connection opens, to deliver events.
static void startEventLoop() {
  static std::once_flag once;
  std::call_once(once, [] {
    virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});  // errors are reported through promises, not stderr
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) return;
    std::thread([] {
      for (;;)
        if (virEventRunDefaultImpl() < 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }).detach();
  });
}

}  // namespace drover

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace drover;
  startEventLoop();
  env.SetInstanceData(new Addon{Napi::Persistent(Connection::Define(env))});
  exports.Set("open", Napi::Function::New<Connection::Open>(env, "open"));
  return exports;
}

NODE_API_MODULE(drover_libvirt, Init)
