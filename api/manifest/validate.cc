#include "api/manifest/validate.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "api/manifest/names.h"
#include "api/manifest/quantity.h"
#include "api/manifest/selector.h"
#include "common/files.h"
#include "reef/v1/options.pb.h"

namespace reef::manifest {
namespace {

using namespace reef::v1;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

class Validator {
 public:
  FieldErrors errors;

  void Add(std::string path, std::string message) {
    errors.push_back({std::move(path), std::move(message)});
  }
  void Check(const std::string& path, const absl::Status& s) {
    if (!s.ok()) Add(path, std::string(s.message()));
  }
  void OneOf(const std::string& path, const std::string& value,
             std::initializer_list<std::string_view> allowed) {
    for (std::string_view a : allowed) {
      if (value == a) return;
    }
    std::string choices;
    for (std::string_view a : allowed) choices += reef::StrCat(choices.empty() ? "" : ", ", a.empty() ? "\"\"" : a);
    Add(path, reef::StrCat("unsupported value \"", value, "\": must be one of ", choices));
  }
  void NonNegative(const std::string& path, int64_t v) {
    if (v < 0) Add(path, reef::StrCat("must be greater than or equal to 0, got ", v));
  }

  // Every field annotated as a quantity, anywhere in the message.
  void Quantities(const Message& m, const std::string& path) {
    const auto* d = m.GetDescriptor();
    const auto* r = m.GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      std::string child = path.empty() ? f->json_name() : reef::StrCat(path, ".", f->json_name());
      bool quantity = f->options().GetExtension(reef::v1::quantity);
      if (f->is_map()) {
        if (!quantity) continue;
        for (int j = 0; j < r->FieldSize(m, f); ++j) {
          const Message& e = r->GetRepeatedMessage(m, f, j);
          const auto* er = e.GetReflection();
          std::string key = er->GetString(e, e.GetDescriptor()->map_key());
          CheckQuantity(reef::StrCat(child, "[", key, "]"),
                        er->GetString(e, e.GetDescriptor()->map_value()));
        }
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        if (f->is_repeated()) {
          for (int j = 0; j < r->FieldSize(m, f); ++j) {
            Quantities(r->GetRepeatedMessage(m, f, j), reef::StrCat(child, "[", j, "]"));
          }
        } else if (r->HasField(m, f)) {
          Quantities(r->GetMessage(m, f), child);
        }
      } else if (quantity && !f->is_repeated() && !r->GetString(m, f).empty()) {
        CheckQuantity(child, r->GetString(m, f));
      }
    }
  }

  void CheckQuantity(const std::string& path, const std::string& text) {
    auto q = Quantity::Parse(text);
    if (!q.ok()) {
      Add(path, std::string(q.status().message()));
    } else if (q->IsNegative()) {
      Add(path, reef::StrCat("quantity \"", text, "\" must not be negative"));
    }
  }

  void Meta(const ObjectMeta& m, const KindInfo& kind, const std::string& path = "metadata") {
    if (m.name().empty()) {
      Add(path + ".name", "required");
    } else if (kind.kind == "Namespace") {
      Check(path + ".name", ValidateDns1123Label(m.name()));
    } else {
      Check(path + ".name", ValidateDns1123Subdomain(m.name()));
    }
    if (kind.namespaced) {
      Check(path + ".namespace", ValidateDns1123Label(m.namespace_()));
    } else if (!m.namespace_().empty()) {
      Add(path + ".namespace", reef::StrCat(kind.kind, " is not namespaced: remove the namespace"));
    }
    Labels(m, path);
  }

  void Labels(const ObjectMeta& m, const std::string& path) {
    for (const auto& [k, v] : m.labels()) {
      std::string p = reef::StrCat(path, ".labels[", k, "]");
      Check(p, ValidateLabelKey(k));
      Check(p, ValidateLabelValue(v));
    }
    size_t annotation_bytes = 0;
    for (const auto& [k, v] : m.annotations()) {
      Check(reef::StrCat(path, ".annotations[", k, "]"), ValidateLabelKey(k));
      annotation_bytes += k.size() + v.size();
    }
    if (annotation_bytes > 256 * 1024) {
      Add(path + ".annotations", "may not be larger than 256 KiB in total");
    }
  }

  void Port(const std::string& path, const std::string& port) {
    int64_t n;
    if (absl::SimpleAtoi(port, &n)) {
      Check(path, ValidatePortNumber(n));
    } else if (port.empty()) {
      Add(path, "required");
    } else {
      // A named port (IANA service name): at most 15 lowercase alphanumerics or '-'.
      Check(path, ValidateDns1123Label(port));
      if (port.size() > 15) Add(path, "a port name must be at most 15 characters");
    }
  }

  void ProbeSpec(const Probe& p, const std::string& path) {
    int handlers = p.has_exec() + p.has_http_get() + p.has_tcp_socket();
    if (handlers != 1) {
      Add(path, "must have exactly one of exec, httpGet or tcpSocket");
    }
    if (p.has_exec() && p.exec().command().empty()) Add(path + ".exec.command", "required");
    if (p.has_http_get()) {
      Port(path + ".httpGet.port", p.http_get().port());
      OneOf(path + ".httpGet.scheme", p.http_get().scheme(), {"HTTP", "HTTPS"});
    }
    if (p.has_tcp_socket()) Port(path + ".tcpSocket.port", p.tcp_socket().port());
    NonNegative(path + ".initialDelaySeconds", p.initial_delay_seconds());
    if (p.timeout_seconds() < 1) Add(path + ".timeoutSeconds", "must be at least 1");
    if (p.period_seconds() < 1) Add(path + ".periodSeconds", "must be at least 1");
    if (p.success_threshold() < 1) Add(path + ".successThreshold", "must be at least 1");
    if (p.failure_threshold() < 1) Add(path + ".failureThreshold", "must be at least 1");
  }

  void ContainerSpec(const Container& c, const std::string& path,
                     const std::set<std::string>& volumes, bool is_init) {
    if (c.name().empty()) Add(path + ".name", "required");
    else Check(path + ".name", ValidateDns1123Label(c.name()));
    if (c.image().empty()) Add(path + ".image", "required");
    else if (c.image().find_first_of(" \t\n") != std::string::npos)
      Add(path + ".image", reef::StrCat("\"", c.image(), "\" must not contain whitespace"));
    OneOf(path + ".imagePullPolicy", c.image_pull_policy(), {"Always", "IfNotPresent", "Never"});
    std::set<std::string> port_names;
    for (int i = 0; i < c.ports_size(); ++i) {
      const ContainerPort& p = c.ports(i);
      std::string pp = reef::StrCat(path, ".ports[", i, "]");
      Check(pp + ".containerPort", ValidatePortNumber(p.container_port()));
      if (p.host_port() != 0) Check(pp + ".hostPort", ValidatePortNumber(p.host_port()));
      OneOf(pp + ".protocol", p.protocol(), {"TCP", "UDP", "SCTP"});
      if (!p.name().empty()) {
        Check(pp + ".name", ValidateDns1123Label(p.name()));
        if (!port_names.insert(p.name()).second) Add(pp + ".name", "duplicate port name");
      }
    }
    for (int i = 0; i < c.env_size(); ++i) {
      const EnvVar& e = c.env(i);
      std::string ep = reef::StrCat(path, ".env[", i, "]");
      Check(ep + ".name", ValidateEnvVarName(e.name()));
      if (e.has_value_from()) {
        const EnvVarSource& s = e.value_from();
        if (!e.value().empty()) Add(ep + ".valueFrom", "may not be set together with value");
        if (s.has_config_map_key_ref() == s.has_secret_key_ref()) {
          Add(ep + ".valueFrom", "must have exactly one of configMapKeyRef or secretKeyRef");
        }
        for (const auto* ref : {&s.config_map_key_ref(), &s.secret_key_ref()}) {
          if (ref == &s.config_map_key_ref() ? !s.has_config_map_key_ref() : !s.has_secret_key_ref())
            continue;
          std::string rp = ep + (ref == &s.config_map_key_ref() ? ".valueFrom.configMapKeyRef"
                                                                 : ".valueFrom.secretKeyRef");
          Check(rp + ".name", ValidateDns1123Subdomain(ref->name()));
          Check(rp + ".key", ValidateConfigMapKey(ref->key()));
        }
      }
    }
    for (int i = 0; i < c.env_from_size(); ++i) {
      const EnvFromSource& e = c.env_from(i);
      std::string ep = reef::StrCat(path, ".envFrom[", i, "]");
      if (e.has_config_map_ref() == e.has_secret_ref()) {
        Add(ep, "must have exactly one of configMapRef or secretRef");
      }
      if (e.has_config_map_ref()) Check(ep + ".configMapRef.name", ValidateDns1123Subdomain(e.config_map_ref().name()));
      if (e.has_secret_ref()) Check(ep + ".secretRef.name", ValidateDns1123Subdomain(e.secret_ref().name()));
    }
    Resources(c.resources(), path + ".resources");
    std::set<std::string> mount_paths;
    for (int i = 0; i < c.volume_mounts_size(); ++i) {
      const VolumeMount& m = c.volume_mounts(i);
      std::string mp = reef::StrCat(path, ".volumeMounts[", i, "]");
      if (!volumes.count(m.name())) {
        Add(mp + ".name", reef::StrCat("volume \"", m.name(), "\" is not in spec.volumes"));
      }
      if (m.mount_path().empty() || m.mount_path()[0] != '/') {
        Add(mp + ".mountPath", reef::StrCat("\"", m.mount_path(), "\" must be an absolute path"));
      } else if (!mount_paths.insert(m.mount_path()).second) {
        Add(mp + ".mountPath", "must be unique");
      }
      if (!m.sub_path().empty() &&
          (m.sub_path()[0] == '/' || absl::StrContains(reef::StrCat("/", m.sub_path(), "/"), "/../"))) {
        Add(mp + ".subPath", "must be a relative path without '..'");
      }
    }
    if (c.has_liveness_probe()) ProbeSpec(c.liveness_probe(), path + ".livenessProbe");
    if (c.has_readiness_probe()) ProbeSpec(c.readiness_probe(), path + ".readinessProbe");
    if (c.has_startup_probe()) ProbeSpec(c.startup_probe(), path + ".startupProbe");
    if (is_init && (c.has_liveness_probe() || c.has_readiness_probe() || c.has_startup_probe())) {
      Add(path, "init containers may not have probes");
    }
    if (c.security_context().has_run_as_user()) NonNegative(path + ".securityContext.runAsUser", c.security_context().run_as_user());
    if (c.security_context().has_run_as_group()) NonNegative(path + ".securityContext.runAsGroup", c.security_context().run_as_group());
  }

  void Resources(const ResourceRequirements& r, const std::string& path) {
    for (const auto* list : {&r.limits(), &r.requests()}) {
      std::string lp = path + (list == &r.limits() ? ".limits" : ".requests");
      for (const auto& [name, value] : *list) {
        if (name != "cpu" && name != "memory" && name != "ephemeral-storage") {
          Add(reef::StrCat(lp, "[", name, "]"), "resource not supported: use cpu, memory or ephemeral-storage");
        }
      }
    }
    for (const auto& [name, limit] : r.limits()) {
      auto req = r.requests().find(name);
      if (req == r.requests().end()) continue;
      auto l = Quantity::Parse(limit);
      auto q = Quantity::Parse(req->second);
      if (l.ok() && q.ok() && *q > *l) {
        Add(reef::StrCat(path, ".requests[", name, "]"),
            reef::StrCat("request ", req->second, " is larger than the limit ", limit));
      }
    }
  }

  void PodSpecValidate(const PodSpec& s, const std::string& path, bool in_template) {
    if (s.containers().empty()) Add(path + ".containers", "at least one container is required");
    std::set<std::string> volumes;
    for (int i = 0; i < s.volumes_size(); ++i) {
      const Volume& v = s.volumes(i);
      std::string vp = reef::StrCat(path, ".volumes[", i, "]");
      Check(vp + ".name", ValidateDns1123Label(v.name()));
      if (!volumes.insert(v.name()).second) Add(vp + ".name", reef::StrCat("duplicate volume \"", v.name(), "\""));
      int sources = v.has_empty_dir() + v.has_host_path() + v.has_config_map() + v.has_secret();
      if (sources != 1) Add(vp, "must have exactly one of emptyDir, hostPath, configMap or secret");
      if (v.has_empty_dir()) OneOf(vp + ".emptyDir.medium", v.empty_dir().medium(), {"", "Memory"});
      if (v.has_host_path()) {
        if (v.host_path().path().empty() || v.host_path().path()[0] != '/')
          Add(vp + ".hostPath.path", "must be an absolute path");
        OneOf(vp + ".hostPath.type", v.host_path().type(),
              {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
               "CharDevice", "BlockDevice"});
      }
      if (v.has_config_map()) {
        Check(vp + ".configMap.name", ValidateDns1123Subdomain(v.config_map().name()));
        Items(v.config_map().items(), v.config_map().default_mode(), vp + ".configMap");
      }
      if (v.has_secret()) {
        Check(vp + ".secret.secretName", ValidateDns1123Subdomain(v.secret().secret_name()));
        Items(v.secret().items(), v.secret().default_mode(), vp + ".secret");
      }
    }
    std::set<std::string> names;
    for (const auto* list : {&s.init_containers(), &s.containers()}) {
      bool init = list == &s.init_containers();
      for (int i = 0; i < list->size(); ++i) {
        std::string cp = reef::StrCat(path, init ? ".initContainers[" : ".containers[", i, "]");
        const Container& c = (*list)[i];
        ContainerSpec(c, cp, volumes, init);
        if (!c.name().empty() && !names.insert(c.name()).second) {
          Add(cp + ".name", reef::StrCat("duplicate container name \"", c.name(), "\""));
        }
      }
    }
    OneOf(path + ".restartPolicy", s.restart_policy(), {"Always", "OnFailure", "Never"});
    if (in_template && s.restart_policy() != "Always") {
      Add(path + ".restartPolicy", "only Always is supported in a pod template");
    }
    if (!s.node_name().empty()) Check(path + ".nodeName", ValidateDns1123Subdomain(s.node_name()));
    for (const auto& [k, v] : s.node_selector()) {
      std::string p = reef::StrCat(path, ".nodeSelector[", k, "]");
      Check(p, ValidateLabelKey(k));
      Check(p, ValidateLabelValue(v));
    }
    for (int i = 0; i < s.tolerations_size(); ++i) {
      const Toleration& t = s.tolerations(i);
      std::string tp = reef::StrCat(path, ".tolerations[", i, "]");
      OneOf(tp + ".operator", t.operator_(), {"Equal", "Exists"});
      if (t.operator_() == "Exists" && !t.value().empty())
        Add(tp + ".value", "must be empty when operator is Exists");
      if (t.key().empty() && t.operator_() != "Exists")
        Add(tp + ".operator", "must be Exists when key is empty");
      OneOf(tp + ".effect", t.effect(), {"", "NoSchedule", "PreferNoSchedule", "NoExecute"});
    }
    NonNegative(path + ".terminationGracePeriodSeconds", s.termination_grace_period_seconds());
    for (int i = 0; i < s.image_pull_secrets_size(); ++i) {
      Check(reef::StrCat(path, ".imagePullSecrets[", i, "].name"),
            ValidateDns1123Subdomain(s.image_pull_secrets(i).name()));
    }
  }

  void Items(const google::protobuf::RepeatedPtrField<KeyToPath>& items, int32_t default_mode,
             const std::string& path) {
    if (default_mode < 0 || default_mode > 0777) {
      Add(path + ".defaultMode", "must be a file mode between 0 and 0777 (decimal 511)");
    }
    for (int i = 0; i < items.size(); ++i) {
      std::string ip = reef::StrCat(path, ".items[", i, "]");
      Check(ip + ".key", ValidateConfigMapKey(items[i].key()));
      const std::string& p = items[i].path();
      if (p.empty() || p[0] == '/' || absl::StrContains(reef::StrCat("/", p, "/"), "/../")) {
        Add(ip + ".path", "must be a relative path without '..'");
      }
      if (items[i].has_mode() && (items[i].mode() < 0 || items[i].mode() > 0777)) {
        Add(ip + ".mode", "must be a file mode between 0 and 0777 (decimal 511)");
      }
    }
  }

  void IntOrPercent(const std::string& path, const std::string& value) {
    bool percent = !value.empty() && value.back() == '%';
    std::string v = percent ? value.substr(0, value.size() - 1) : value;
    int64_t n;
    if (!absl::SimpleAtoi(v, &n) || n < 0) {
      Add(path, reef::StrCat("\"", value, "\" must be a non-negative integer or a percentage (\"25%\")"));
    } else if (percent && n > 100) {
      Add(path, "must not be greater than 100%");
    }
  }

  static bool IsZero(const std::string& v) { return v == "0" || v == "0%"; }

  void Template(const LabelSelector& selector, const PodTemplateSpec& t, const std::string& path) {
    auto sel = Selector::FromProto(selector);
    if (!sel.ok()) {
      Add(path + ".selector", std::string(sel.status().message()));
    } else if (sel->empty()) {
      Add(path + ".selector", "required (matchLabels or matchExpressions)");
    } else if (!sel->Matches(t.metadata().labels())) {
      Add(path + ".template.metadata.labels", reef::StrCat("do not match the selector \"", sel->ToString(), "\""));
    }
    for (const auto& [k, v] : selector.match_labels()) {
      std::string p = reef::StrCat(path, ".selector.matchLabels[", k, "]");
      Check(p, ValidateLabelKey(k));
      Check(p, ValidateLabelValue(v));
    }
    Labels(t.metadata(), path + ".template.metadata");
    PodSpecValidate(t.spec(), path + ".template.spec", true);
  }

  void DeploymentValidate(const Deployment& d) {
    const DeploymentSpec& s = d.spec();
    NonNegative("spec.replicas", s.replicas());
    Template(s.selector(), s.template_(), "spec");
    OneOf("spec.strategy.type", s.strategy().type(), {"RollingUpdate", "Recreate"});
    if (s.strategy().type() == "RollingUpdate") {
      const auto& ru = s.strategy().rolling_update();
      IntOrPercent("spec.strategy.rollingUpdate.maxUnavailable", ru.max_unavailable());
      IntOrPercent("spec.strategy.rollingUpdate.maxSurge", ru.max_surge());
      if (IsZero(ru.max_unavailable()) && IsZero(ru.max_surge())) {
        Add("spec.strategy.rollingUpdate", "maxSurge and maxUnavailable may not both be 0");
      }
    } else if (s.strategy().has_rolling_update()) {
      Add("spec.strategy.rollingUpdate", "may only be set when type is RollingUpdate");
    }
    NonNegative("spec.minReadySeconds", s.min_ready_seconds());
    NonNegative("spec.revisionHistoryLimit", s.revision_history_limit());
    if (s.progress_deadline_seconds() <= s.min_ready_seconds())
      Add("spec.progressDeadlineSeconds", "must be greater than minReadySeconds");
  }

  void DaemonSetValidate(const DaemonSet& d) {
    const DaemonSetSpec& s = d.spec();
    Template(s.selector(), s.template_(), "spec");
    OneOf("spec.updateStrategy.type", s.update_strategy().type(), {"RollingUpdate", "OnDelete"});
    if (s.update_strategy().type() == "RollingUpdate") {
      const auto& ru = s.update_strategy().rolling_update();
      IntOrPercent("spec.updateStrategy.rollingUpdate.maxUnavailable", ru.max_unavailable());
      IntOrPercent("spec.updateStrategy.rollingUpdate.maxSurge", ru.max_surge());
      if (IsZero(ru.max_unavailable()) && IsZero(ru.max_surge()))
        Add("spec.updateStrategy.rollingUpdate", "maxSurge and maxUnavailable may not both be 0");
      // The DaemonSet reconciler replaces a node's pod in place (delete, then create);
      // surging a second pod onto a node is not implemented, and Reef never ignores a
      // field silently.
      if (!ru.max_surge().empty() && !IsZero(ru.max_surge()))
        Add("spec.updateStrategy.rollingUpdate.maxSurge", "not supported yet: use maxUnavailable");
    }
    NonNegative("spec.minReadySeconds", s.min_ready_seconds());
  }

  void ReplicaSetValidate(const ReplicaSet& rs) {
    const ReplicaSetSpec& s = rs.spec();
    NonNegative("spec.replicas", s.replicas());
    Template(s.selector(), s.template_(), "spec");
    NonNegative("spec.minReadySeconds", s.min_ready_seconds());
  }

  template <typename Map>
  void DataKeys(const Map& data, const std::string& path, std::set<std::string>* seen, size_t* bytes) {
    for (const auto& [k, v] : data) {
      std::string p = reef::StrCat(path, "[", k, "]");
      Check(p, ValidateConfigMapKey(k));
      if (!seen->insert(k).second) Add(p, "duplicate key (in both data and binaryData)");
      *bytes += k.size() + v.size();
    }
  }

  void ConfigData(const Object& o) {
    std::set<std::string> seen;
    size_t bytes = 0;
    if (o.has_config_map()) {
      DataKeys(o.config_map().data(), "data", &seen, &bytes);
      DataKeys(o.config_map().binary_data(), "binaryData", &seen, &bytes);
    } else {
      DataKeys(o.secret().data(), "data", &seen, &bytes);
      DataKeys(o.secret().string_data(), "stringData", &seen, &bytes);
    }
    if (bytes > 1024 * 1024) {
      Add("data", SizeLimitMessage("", bytes, 1024 * 1024));
    }
  }
};

}  // namespace

FieldErrors Validate(const Object& object) {
  Validator v;
  const KindInfo* kind = KindOf(object);
  if (kind == nullptr) {
    v.Add("kind", "required");
    return v.errors;
  }
  v.Meta(Meta(object), *kind);
  v.Quantities(Inner(object), "");
  switch (object.kind_case()) {
    case Object::kPod: v.PodSpecValidate(object.pod().spec(), "spec", false); break;
    case Object::kDeployment: v.DeploymentValidate(object.deployment()); break;
    case Object::kDaemonSet: v.DaemonSetValidate(object.daemon_set()); break;
    case Object::kReplicaSet: v.ReplicaSetValidate(object.replica_set()); break;
    case Object::kConfigMap:
    case Object::kSecret: v.ConfigData(object); break;
    case Object::kEvent:
      if (object.event().involved_object().name().empty())
        v.Add("involvedObject.name", "required");
      break;
    default: break;
  }
  if (object.ByteSizeLong() > kMaxObjectBytes) {
    v.Add("", SizeLimitMessage("object", object.ByteSizeLong(), kMaxObjectBytes));
  }
  return v.errors;
}

FieldErrors ValidateForStatus(const Object& object) {
  Validator v;
  const KindInfo* kind = KindOf(object);
  if (kind == nullptr) {
    v.Add("kind", "required");
    return v.errors;
  }
  v.Meta(Meta(object), *kind);
  v.Quantities(Inner(object), "");
  if (object.ByteSizeLong() > kMaxObjectBytes) {
    v.Add("", SizeLimitMessage("object", object.ByteSizeLong(), kMaxObjectBytes));
  }
  return v.errors;
}

}  // namespace reef::manifest
