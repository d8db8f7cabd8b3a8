#include "api/manifest/defaults.h"

namespace reef::manifest {
namespace {

using namespace reef::v1;

void DefaultProbe(Probe* p) {
  if (!p->has_initial_delay_seconds()) p->set_initial_delay_seconds(0);
  if (!p->has_timeout_seconds()) p->set_timeout_seconds(1);
  if (!p->has_period_seconds()) p->set_period_seconds(10);
  if (!p->has_success_threshold()) p->set_success_threshold(1);
  if (!p->has_failure_threshold()) p->set_failure_threshold(3);
  if (p->has_http_get()) {
    if (p->http_get().path().empty()) p->mutable_http_get()->set_path("/");
    if (p->http_get().scheme().empty()) p->mutable_http_get()->set_scheme("HTTP");
  }
}

void DefaultContainer(Container* c) {
  if (c->image_pull_policy().empty()) c->set_image_pull_policy(DefaultPullPolicy(c->image()));
  for (ContainerPort& p : *c->mutable_ports()) {
    if (p.protocol().empty()) p.set_protocol("TCP");
  }
  // As Kubernetes: limits without requests make the requests equal to the limits.
  if (c->has_resources()) {
    ResourceRequirements* r = c->mutable_resources();
    for (const auto& [name, q] : r->limits()) r->mutable_requests()->insert({name, q});
  }
  if (c->has_liveness_probe()) DefaultProbe(c->mutable_liveness_probe());
  if (c->has_readiness_probe()) DefaultProbe(c->mutable_readiness_probe());
  if (c->has_startup_probe()) DefaultProbe(c->mutable_startup_probe());
}

void DefaultPodSpec(PodSpec* spec) {
  if (spec->restart_policy().empty()) spec->set_restart_policy("Always");
  if (!spec->has_termination_grace_period_seconds()) spec->set_termination_grace_period_seconds(30);
  for (Container& c : *spec->mutable_init_containers()) DefaultContainer(&c);
  for (Container& c : *spec->mutable_containers()) DefaultContainer(&c);
  for (Toleration& t : *spec->mutable_tolerations()) {
    if (t.operator_().empty()) t.set_operator_("Equal");
  }
  for (Volume& v : *spec->mutable_volumes()) {
    bool has_source = v.has_empty_dir() || v.has_host_path() || v.has_config_map() || v.has_secret();
    if (!has_source) v.mutable_empty_dir();  // Kubernetes' default volume source
    if (v.has_config_map() && !v.config_map().has_default_mode())
      v.mutable_config_map()->set_default_mode(0644);
    if (v.has_secret() && !v.secret().has_default_mode())
      v.mutable_secret()->set_default_mode(0644);
  }
}


void DefaultDeployment(Deployment* d) {
  DeploymentSpec* s = d->mutable_spec();
  if (!s->has_replicas()) s->set_replicas(1);
  if (s->strategy().type().empty()) s->mutable_strategy()->set_type("RollingUpdate");
  if (s->strategy().type() == "RollingUpdate") {
    auto* ru = s->mutable_strategy()->mutable_rolling_update();
    if (ru->max_unavailable().empty()) ru->set_max_unavailable("25%");
    if (ru->max_surge().empty()) ru->set_max_surge("25%");
  }
  if (!s->has_min_ready_seconds()) s->set_min_ready_seconds(0);
  if (!s->has_revision_history_limit()) s->set_revision_history_limit(10);
  if (!s->has_progress_deadline_seconds()) s->set_progress_deadline_seconds(600);
  DefaultPodSpec(s->mutable_template_()->mutable_spec());
}

void DefaultDaemonSet(DaemonSet* ds) {
  DaemonSetSpec* s = ds->mutable_spec();
  if (s->update_strategy().type().empty()) s->mutable_update_strategy()->set_type("RollingUpdate");
  if (s->update_strategy().type() == "RollingUpdate") {
    auto* ru = s->mutable_update_strategy()->mutable_rolling_update();
    if (ru->max_unavailable().empty()) ru->set_max_unavailable("1");
    if (ru->max_surge().empty()) ru->set_max_surge("0");
  }
  if (!s->has_min_ready_seconds()) s->set_min_ready_seconds(0);
  if (!s->has_revision_history_limit()) s->set_revision_history_limit(10);
  DefaultPodSpec(s->mutable_template_()->mutable_spec());
}

void DefaultReplicaSet(ReplicaSet* rs) {
  ReplicaSetSpec* s = rs->mutable_spec();
  if (!s->has_replicas()) s->set_replicas(1);
  if (!s->has_min_ready_seconds()) s->set_min_ready_seconds(0);
  DefaultPodSpec(s->mutable_template_()->mutable_spec());
}

void DefaultSecret(Secret* s) {
  if (s->type().empty()) s->set_type("Opaque");
  // stringData is write-only: it lands in data, as Kubernetes does on write.
  for (const auto& [k, v] : s->string_data()) (*s->mutable_data())[k] = v;
  s->clear_string_data();
}

}  // namespace

std::string DefaultPullPolicy(std::string_view image) {
  // The tag is after the last ':' that follows the last '/' (a registry port is not
  // a tag); a digest pins the image whatever the tag says.
  if (image.find('@') != std::string_view::npos) return "IfNotPresent";
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  bool has_tag = colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash);
  if (!has_tag || image.substr(colon + 1) == "latest") return "Always";
  return "IfNotPresent";
}

void ApplyDefaults(Object* object) {
  const KindInfo* kind = KindOf(*object);
  if (kind == nullptr) return;
  ObjectMeta* meta = MutableMeta(object);
  if (kind->namespaced && meta->namespace_().empty()) meta->set_namespace_("default");
  switch (object->kind_case()) {
    case Object::kPod: DefaultPodSpec(object->mutable_pod()->mutable_spec()); break;
    case Object::kDeployment: DefaultDeployment(object->mutable_deployment()); break;
    case Object::kDaemonSet: DefaultDaemonSet(object->mutable_daemon_set()); break;
    case Object::kReplicaSet: DefaultReplicaSet(object->mutable_replica_set()); break;
    case Object::kSecret: DefaultSecret(object->mutable_secret()); break;
    default: break;
  }
}

}  // namespace reef::manifest
