#include "connection.h"

#include "addon.h"

namespace drover {

Failure lastFailure() {
  const virError* error = virGetLastError();
  if (!error) return {VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, "libvirt call failed without reporting an error"};
  return {error->code, error->domain, error->message ? error->message : "unknown libvirt error"};
}

bool lastErrorIs(int code) {
  const virError* error = virGetLastError();
  return error && error->code == code;
}

Napi::Value errorValue(Napi::Env env, const Failure& failure) {
  auto error = Napi::Error::New(env, failure.message).Value();
  error.Set("code", failure.code);
  error.Set("libvirtDomain", failure.domain);
  return error;
}

std::string text(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsString()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(index + 1) + " must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

bool flag(const Napi::CallbackInfo& info, size_t index) { return info[index].ToBoolean().Value(); }

Napi::Function Connection::Define(Napi::Env env) {
  return DefineClass(env, "Connection",
                     {
                         InstanceMethod<&Connection::Close>("close"),
                         InstanceMethod<&Connection::NodeInfo>("nodeInfo"),
                         InstanceMethod<&Connection::Hostname>("hostname"),
                         InstanceMethod<&Connection::HypervisorType>("hypervisorType"),
                         InstanceMethod<&Connection::HypervisorVersion>("hypervisorVersion"),
                         InstanceMethod<&Connection::LibraryVersion>("libraryVersion"),
                         InstanceMethod<&Connection::WatchLifecycle>("watchLifecycle"),
                         InstanceMethod<&Connection::Capabilities>("capabilities"),
                         InstanceMethod<&Connection::IsAlive>("isAlive"),
                         InstanceMethod<&Connection::SetKeepAlive>("setKeepAlive"),
                         InstanceMethod<&Connection::WatchReboot>("watchReboot"),
                         InstanceMethod<&Connection::ListDomains>("listDomains"),
                         InstanceMethod<&Connection::DomainStatus>("domainStatus"),
                         InstanceMethod<&Connection::DomainXml>("domainXml"),
                         InstanceMethod<&Connection::DomainMetadata>("domainMetadata"),
                         InstanceMethod<&Connection::DefineDomain>("defineDomain"),
                         InstanceMethod<&Connection::DomainOperation>("domainOperation"),
                         InstanceMethod<&Connection::SaveDomain>("saveDomain"),
                         InstanceMethod<&Connection::RestoreDomain>("restoreDomain"),
                         InstanceMethod<&Connection::AttachDevice>("attachDevice"),
                         InstanceMethod<&Connection::DetachDevice>("detachDevice"),
                         InstanceMethod<&Connection::UpdateDevice>("updateDevice"),
                         InstanceMethod<&Connection::MigrateDomain>("migrateDomain"),
                         InstanceMethod<&Connection::MigrationJob>("migrationJob"),
                         InstanceMethod<&Connection::AbortMigration>("abortMigration"),
                         InstanceMethod<&Connection::SetDomainMetadata>("setDomainMetadata"),
                         InstanceMethod<&Connection::ListStoragePools>("listStoragePools"),
                         InstanceMethod<&Connection::StoragePoolInfo>("storagePoolInfo"),
                         InstanceMethod<&Connection::StoragePoolXml>("storagePoolXml"),
                         InstanceMethod<&Connection::DefineStoragePool>("defineStoragePool"),
                         InstanceMethod<&Connection::BuildStoragePool>("buildStoragePool"),
                         InstanceMethod<&Connection::StartStoragePool>("startStoragePool"),
                         InstanceMethod<&Connection::StopStoragePool>("stopStoragePool"),
                         InstanceMethod<&Connection::UndefineStoragePool>("undefineStoragePool"),
                         InstanceMethod<&Connection::RefreshStoragePool>("refreshStoragePool"),
                         InstanceMethod<&Connection::ListVolumes>("listVolumes"),
                         InstanceMethod<&Connection::CreateVolume>("createVolume"),
                         InstanceMethod<&Connection::CloneVolume>("cloneVolume"),
                         InstanceMethod<&Connection::VolumeInfo>("volumeInfo"),
                         InstanceMethod<&Connection::VolumeXml>("volumeXml"),
                         InstanceMethod<&Connection::DeleteVolume>("deleteVolume"),
                         InstanceMethod<&Connection::ListNetworks>("listNetworks"),
                         InstanceMethod<&Connection::NetworkXml>("networkXml"),
                         InstanceMethod<&Connection::DefineNetwork>("defineNetwork"),
                         InstanceMethod<&Connection::StartNetwork>("startNetwork"),
                         InstanceMethod<&Connection::StopNetwork>("stopNetwork"),
                         InstanceMethod<&Connection::UndefineNetwork>("undefineNetwork"),
                     });
}

Connection::Connection(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Connection>(info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "connections are made by open()");
  conn_ = info[0].As<Napi::External<virConnect>>().Data();
}

Napi::Value Connection::Open(const Napi::CallbackInfo& info) {
  return Job::Start(info.Env(), nullptr, [uri = text(info, 0)](virConnectPtr) -> Build {
    virConnectPtr conn = check(virConnectOpen(uri.c_str()));
    return [conn](Napi::Env env) -> Napi::Value {
      return env.GetInstanceData<Addon>()->connectionClass.New({Napi::External<virConnect>::New(env, conn)});
    };
  });
}

Napi::Value Connection::Close(const Napi::CallbackInfo& info) {
  if (!conn_) {
    auto closed = Napi::Promise::Deferred::New(info.Env());
    closed.Resolve(info.Env().Undefined());
    return closed.Promise();
  }
  virConnectPtr own = std::exchange(conn_, nullptr);
  int lifecycle = lifecycle_->close();
  int reboot = reboot_->close();
  return schedule(info.Env(), own, [own, lifecycle, reboot](virConnectPtr conn) {
    // A connection libvirt gave up (its keepalive probes went unanswered) has no daemon to deregister from; the
    // calls would only wait on the closed client, which libvirt 9.0 does not survive when other calls wait too.
    if (virConnectIsAlive(conn) == 1) {
      if (lifecycle >= 0) virConnectDomainEventDeregisterAny(conn, lifecycle);
      if (reboot >= 0) virConnectDomainEventDeregisterAny(conn, reboot);
    }
    virConnectClose(own);
  });
}

struct HostNode {
  virNodeInfo info;
};

Napi::Value toJs(Napi::Env env, const HostNode& node) {
  auto result = Napi::Object::New(env);
  result.Set("model", std::string(node.info.model));
  result.Set("memoryKiB", static_cast<double>(node.info.memory));
  result.Set("cpus", node.info.cpus);
  result.Set("mhz", node.info.mhz);
  result.Set("nodes", node.info.nodes);
  result.Set("sockets", node.info.sockets);
  result.Set("cores", node.info.cores);
  result.Set("threads", node.info.threads);
  return result;
}

Napi::Value Connection::NodeInfo(const Napi::CallbackInfo& info) {
  return run(info, [](virConnectPtr conn) {
    HostNode node{};
    check(virNodeGetInfo(conn, &node.info));
    return node;
  });
}

Napi::Value Connection::Hostname(const Napi::CallbackInfo& info) {
  return run(info, [](virConnectPtr conn) { return take(virConnectGetHostname(conn)); });
}

Napi::Value Connection::HypervisorType(const Napi::CallbackInfo& info) {
  return run(info, [](virConnectPtr conn) { return std::string(check(virConnectGetType(conn))); });
}

Napi::Value Connection::HypervisorVersion(const Napi::CallbackInfo& info) {
  return run(info, [](virConnectPtr conn) {
    unsigned long version = 0;
    if (virConnectGetVersion(conn, &version) < 0 && !lastErrorIs(VIR_ERR_NO_SUPPORT)) fail();
    return static_cast<double>(version);
  });
}

Napi::Value Connection::LibraryVersion(const Napi::CallbackInfo& info) {
  return run(info, [](virConnectPtr conn) {
    unsigned long version = 0;
    check(virConnectGetLibVersion(conn, &version));
    return static_cast<double>(version);
  });
}

Napi::Value Connection::Capabilities(const Napi::CallbackInfo& info) {
  return run(info, [](virConnectPtr conn) { return take(virConnectGetCapabilities(conn)); });
}

// Answers at once, without a job: virConnectIsAlive only reads the connection's state.
Napi::Value Connection::IsAlive(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), conn_ && virConnectIsAlive(conn_) == 1);
}

Napi::Value Connection::SetKeepAlive(const Napi::CallbackInfo& info) {
  int interval = info[0].ToNumber().Int32Value();
  unsigned count = info[1].ToNumber().Uint32Value();
  return run(info, [interval, count](virConnectPtr conn) { check(virConnectSetKeepAlive(conn, interval, count)); });
}

struct Listener {
  Napi::ThreadSafeFunction deliver;
};

struct LifecycleEvent {
  std::string uuid;
  std::string name;
  int event;
  int detail;
};

static void releaseListener(void* opaque) {
  auto* listener = static_cast<Listener*>(opaque);
  listener->deliver.Release();
  delete listener;
}

static void callListener(Napi::Env env, Napi::Function listener, LifecycleEvent* delivered) {
  std::unique_ptr<LifecycleEvent> event(delivered);
  auto value = Napi::Object::New(env);
  value.Set("uuid", event->uuid);
  value.Set("name", event->name);
  value.Set("event", event->event);
  value.Set("detail", event->detail);
  try {
    listener.Call({value});
  } catch (const Napi::Error& error) {
    error.ThrowAsJavaScriptException();
  }
}

// Runs on the event-loop thread.
static int onLifecycle(virConnectPtr, virDomainPtr domain, int event, int detail, void* opaque) {
  char uuid[VIR_UUID_STRING_BUFLEN] = "";
  virDomainGetUUIDString(domain, uuid);
  const char* name = virDomainGetName(domain);
  auto* delivered = new LifecycleEvent{uuid, name ? name : "", event, detail};
  if (static_cast<Listener*>(opaque)->deliver.NonBlockingCall(delivered, callListener) != napi_ok) delete delivered;
  return 0;
}

Napi::Value Connection::WatchLifecycle(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "argument 1 must be a function");
  if (!conn_) throw Napi::Error::New(env, "the libvirt connection is closed");
  if (watching_) throw Napi::Error::New(env, "lifecycle events are already watched on this connection");
  watching_ = true;
  auto* listener = new Listener{Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "drover_libvirt_lifecycle", 0, 1)};
  listener->deliver.Unref(env);
  return run(info, [listener, lifecycle = lifecycle_](virConnectPtr conn) {
    int id = virConnectDomainEventRegisterAny(conn, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(onLifecycle), listener,
                                              releaseListener);
    if (id < 0) {
      Failure failure = lastFailure();
      releaseListener(listener);
      throw failure;
    }
    if (!lifecycle->keep(id)) virConnectDomainEventDeregisterAny(conn, id);
  });
}

}  // namespace drover
