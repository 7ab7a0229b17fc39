#include <optional>

#include "connection.h"

namespace drover {

namespace {

struct MigrationJob {
  double dataTotal;
  double dataProcessed;
  double dataRemaining;
  double timeElapsed;
};

Napi::Value toJs(Napi::Env env, const MigrationJob& job) {
  auto result = Napi::Object::New(env);
  result.Set("dataTotal", job.dataTotal);
  result.Set("dataProcessed", job.dataProcessed);
  result.Set("dataRemaining", job.dataRemaining);
  result.Set("timeElapsed", job.timeElapsed);
  return result;
}

Domain lookup(virConnectPtr conn, const std::string& uuid) { return Domain(check(virDomainLookupByUUIDString(conn, uuid.c_str()))); }

struct TypedParams {
  virTypedParameterPtr params = nullptr;
  int count = 0;
  int max = 0;
  ~TypedParams() { virTypedParamsFree(params, count); }
};

double numberParam(const TypedParams& stats, const char* name) {
  unsigned long long value = 0;
  if (virTypedParamsGetULLong(stats.params, stats.count, name, &value) <= 0) return 0;
  return static_cast<double>(value);
}

// The statistics of the domain's job when it is an outgoing migration; nothing for no job, another job, or no domain.
std::optional<MigrationJob> outgoingMigration(virDomainPtr domain) {
  TypedParams stats;
  int type = VIR_DOMAIN_JOB_NONE;
  if (virDomainGetJobStats(domain, &type, &stats.params, &stats.count, 0) < 0) {
    if (lastErrorIs(VIR_ERR_NO_DOMAIN)) return std::nullopt;
    fail();
  }
  if (type == VIR_DOMAIN_JOB_NONE) return std::nullopt;
  int operation = VIR_DOMAIN_JOB_OPERATION_UNKNOWN;
  if (virTypedParamsGetInt(stats.params, stats.count, VIR_DOMAIN_JOB_OPERATION, &operation) <= 0) return std::nullopt;
  if (operation != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT) return std::nullopt;
  return MigrationJob{numberParam(stats, VIR_DOMAIN_JOB_DATA_TOTAL), numberParam(stats, VIR_DOMAIN_JOB_DATA_PROCESSED),
                      numberParam(stats, VIR_DOMAIN_JOB_DATA_REMAINING), numberParam(stats, VIR_DOMAIN_JOB_TIME_ELAPSED)};
}

}  // namespace

Napi::Value Connection::MigrateDomain(const Napi::CallbackInfo& info) {
  if (!info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), "argument 4 must be a number");
  double bandwidth = info[3].As<Napi::Number>().DoubleValue();
  if (!(bandwidth >= 0)) throw Napi::TypeError::New(info.Env(), "argument 4 must not be negative");
  return runOnThread(info, [uuid = text(info, 0), destination = text(info, 1), streamUri = text(info, 2), bandwidth = static_cast<unsigned long long>(bandwidth),
                    unsafe = flag(info, 4)](virConnectPtr conn) {
    Domain domain = lookup(conn, uuid);
    TypedParams params;
    check(virTypedParamsAddString(&params.params, &params.count, &params.max, VIR_MIGRATE_PARAM_URI, streamUri.c_str()));
    if (bandwidth > 0) check(virTypedParamsAddULLong(&params.params, &params.count, &params.max, VIR_MIGRATE_PARAM_BANDWIDTH, bandwidth));
    unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_ABORT_ON_ERROR;
    if (unsafe) flags |= VIR_MIGRATE_UNSAFE;
    check(virDomainMigrateToURI3(domain.get(), destination.c_str(), params.params, params.count, flags));
  });
}

Napi::Value Connection::MigrationJob(const Napi::CallbackInfo& info) {
  return runOnThread(info, [uuid = text(info, 0)](virConnectPtr conn) -> std::optional<drover::MigrationJob> {
    Domain domain(virDomainLookupByUUIDString(conn, uuid.c_str()));
    if (!domain && lastErrorIs(VIR_ERR_NO_DOMAIN)) return std::nullopt;
    return outgoingMigration(check(domain.get()));
  });
}

Napi::Value Connection::AbortMigration(const Napi::CallbackInfo& info) {
  return runOnThread(info, [uuid = text(info, 0)](virConnectPtr conn) {
    Domain domain = lookup(conn, uuid);
    if (!outgoingMigration(domain.get())) throw Failure{VIR_ERR_OPERATION_INVALID, VIR_FROM_DOM, "no outgoing migration job of domain " + uuid + " runs"};
    check(virDomainAbortJob(domain.get()));
  });
}

Napi::Value Connection::SetDomainMetadata(const Napi::CallbackInfo& info) {
  return run(info, [uuid = text(info, 0), xml = text(info, 1), key = text(info, 2), namespaceUri = text(info, 3),
                    flags = (flag(info, 4) ? static_cast<unsigned>(VIR_DOMAIN_AFFECT_LIVE) : 0u) | (flag(info, 5) ? static_cast<unsigned>(VIR_DOMAIN_AFFECT_CONFIG) : 0u)](virConnectPtr conn) {
    check(virDomainSetMetadata(lookup(conn, uuid).get(), VIR_DOMAIN_METADATA_ELEMENT, xml.c_str(), key.c_str(), namespaceUri.c_str(), flags));
  });
}

}  // namespace drover
