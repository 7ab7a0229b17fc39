// Libvirt's reboot events (VIR_DOMAIN_EVENT_ID_REBOOT): the guest of a domain restarted, whether it
// rebooted itself, was asked to, or was reset.
#include <memory>

#include "connection.h"

namespace drover {

struct RebootListener {
  Napi::ThreadSafeFunction deliver;
};

static void releaseRebootListener(void* opaque) {
  auto* listener = static_cast<RebootListener*>(opaque);
  listener->deliver.Release();
  delete listener;
}

static void callRebootListener(Napi::Env env, Napi::Function listener, std::string* delivered) {
  std::unique_ptr<std::string> uuid(delivered);
  try {
    listener.Call({Napi::String::New(env, *uuid)});
  } catch (const Napi::Error& error) {
    error.ThrowAsJavaScriptException();
  }
}

// Runs on the event-loop thread.
static void onReboot(virConnectPtr, virDomainPtr domain, void* opaque) {
  char uuid[VIR_UUID_STRING_BUFLEN] = "";
  virDomainGetUUIDString(domain, uuid);
  auto* delivered = new std::string(uuid);
  if (static_cast<RebootListener*>(opaque)->deliver.NonBlockingCall(delivered, callRebootListener) != napi_ok) delete delivered;
}

Napi::Value Connection::WatchReboot(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "argument 1 must be a function");
  if (!conn_) throw Napi::Error::New(env, "the libvirt connection is closed");
  if (watchingReboot_) throw Napi::Error::New(env, "reboot events are already watched on this connection");
  watchingReboot_ = true;
  auto* listener = new RebootListener{Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "drover_libvirt_reboot", 0, 1)};
  listener->deliver.Unref(env);
  return run(info, [listener, reboot = reboot_](virConnectPtr conn) {
    int id = virConnectDomainEventRegisterAny(conn, nullptr, VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(onReboot), listener,
                                              releaseRebootListener);
    if (id < 0) {
      Failure failure = lastFailure();
      releaseRebootListener(listener);
      throw failure;
    }
    if (!reboot->keep(id)) virConnectDomainEventDeregisterAny(conn, id);
  });
}

}  // namespace drover
