#include "controller/scheduler/predicates.h"

namespace reef::scheduler {

const v1::NodeCondition* FindNodeCondition(const v1::NodeStatus& status, std::string_view type) {
  for (const v1::NodeCondition& c : status.conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

bool IsNodeReady(const v1::Node& node) {
  const v1::NodeCondition* c = FindNodeCondition(node.status(), "Ready");
  return c != nullptr && c->status() == "True";
}

bool MatchesNodeSelector(const v1::PodSpec& spec, const v1::Node& node) {
  const auto& labels = node.metadata().labels();
  for (const auto& [key, value] : spec.node_selector()) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

bool Tolerates(const v1::Toleration& t, const v1::Taint& taint) {
  if (!t.effect().empty() && t.effect() != taint.effect()) return false;
  if (!t.key().empty() && t.key() != taint.key()) return false;
  if (t.operator_() == "Exists") return true;
  if (t.operator_().empty() || t.operator_() == "Equal") return t.value() == taint.value();
  return false;
}

const v1::Taint* FindUntoleratedTaint(const v1::Node& node,
                                      const google::protobuf::RepeatedPtrField<v1::Toleration>& tolerations,
                                      const std::function<bool(const v1::Taint&)>& applies) {
  for (const v1::Taint& taint : node.spec().taints()) {
    if (!applies(taint)) continue;
    bool tolerated = false;
    for (const v1::Toleration& t : tolerations) {
      if (Tolerates(t, taint)) {
        tolerated = true;
        break;
      }
    }
    if (!tolerated) return &taint;
  }
  return nullptr;
}

bool IsSchedulingEffect(const v1::Taint& taint) {
  return taint.effect() == "NoSchedule" || taint.effect() == "NoExecute";
}

bool IsExecuteEffect(const v1::Taint& taint) { return taint.effect() == "NoExecute"; }

bool BlockedByCordon(const v1::PodSpec& spec, const v1::Node& node) {
  if (!node.spec().unschedulable()) return false;
  v1::Taint cordon;
  cordon.set_key(kTaintUnschedulable);
  cordon.set_effect("NoSchedule");
  for (const v1::Toleration& t : spec.tolerations()) {
    if (Tolerates(t, cordon)) return false;
  }
  return true;
}

}  // namespace reef::scheduler
