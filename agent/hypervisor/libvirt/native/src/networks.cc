#include "connection.h"

namespace drover {

struct NetworkEntry {
  std::string name;
  std::string uuid;
  bool active;
  bool persistent;
  std::string bridge;
};

Napi::Value toJs(Napi::Env env, const NetworkEntry& network) {
  auto result = Napi::Object::New(env);
  result.Set("name", network.name);
  result.Set("uuid", network.uuid);
  result.Set("active", network.active);
  result.Set("persistent", network.persistent);
  result.Set("bridge", network.bridge);
  return result;
}

static NetworkEntry entryOf(virNetworkPtr network) {
  char uuid[VIR_UUID_STRING_BUFLEN];
  check(virNetworkGetUUIDString(network, uuid));
  char* bridge = virNetworkGetBridgeName(network);  // fails for networks without a bridge
  return {check(virNetworkGetName(network)), uuid, check(virNetworkIsActive(network)) == 1, check(virNetworkIsPersistent(network)) == 1,
          bridge ? take(bridge) : ""};
}

static Network lookup(virConnectPtr conn, const std::string& name) { return Network(check(virNetworkLookupByName(conn, name.c_str()))); }

Napi::Value Connection::ListNetworks(const Napi::CallbackInfo& info) {
  return run(info, [](virConnectPtr conn) {
    virNetworkPtr* raw = nullptr;
    int count = check(virConnectListAllNetworks(conn, &raw, 0));
    std::vector<NetworkEntry> networks;
    for (auto& network : adopt<Network>(raw, count)) networks.push_back(entryOf(network.get()));
    return networks;
  });
}

Napi::Value Connection::NetworkXml(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { return take(virNetworkGetXMLDesc(lookup(conn, name).get(), 0)); });
}

Napi::Value Connection::DefineNetwork(const Napi::CallbackInfo& info) {
  return run(info, [xml = text(info, 0)](virConnectPtr conn) { return entryOf(Network(check(virNetworkDefineXML(conn, xml.c_str()))).get()); });
}

Napi::Value Connection::StartNetwork(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { check(virNetworkCreate(lookup(conn, name).get())); });
}

Napi::Value Connection::StopNetwork(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { check(virNetworkDestroy(lookup(conn, name).get())); });
}

Napi::Value Connection::UndefineNetwork(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { check(virNetworkUndefine(lookup(conn, name).get())); });
}

}  // namespace drover
