#pragma once
// DaemonSets: one pod on every node that matches (nodeSelector, and taints the pods
// tolerate), bound there directly with spec.nodeName, including nodes that join
// later; removed from nodes that stop matching or go away; rolled by template hash,
// at most maxUnavailable nodes at a time.
//
// Edge autonomy: DaemonSet pods tolerate node.kubernetes.io/unreachable and not-ready,
// so a node that loses its link keeps its pods and gets the ones created meanwhile
// when it returns.

#include "controller/reconcile/reconciler.h"

namespace reef::reconcile {

struct DaemonSetPlan {
  std::vector<std::string> create_on;  // nodes that get a new pod
  std::vector<ObjectPtr> remove;       // pods to delete
  v1::DaemonSetStatus status;          // as it is once the plan is written
  absl::Duration requeue_after = absl::ZeroDuration();
};

// `hash` is the template's (TemplateHash); `pods` those the DaemonSet controls.
DaemonSetPlan PlanDaemonSet(const v1::DaemonSet& ds, const std::string& hash,
                            const std::vector<ObjectPtr>& nodes, const std::vector<ObjectPtr>& pods,
                            absl::Time now);

// Whether a node should get the DaemonSet's pod, and whether a pod already there may
// stay (a NoSchedule taint added later keeps new pods off, not running ones).
struct NodeFit {
  bool should_run = false;
  bool should_continue = false;
};
NodeFit DaemonSetFits(const v1::PodSpec& pod_spec, const v1::Node& node);

// The template's spec with the tolerations Kubernetes gives every DaemonSet pod.
v1::PodSpec DaemonPodSpec(const v1::DaemonSet& ds);
// The pod for `node`, without its name.
v1::Object NewDaemonPod(const v1::Object& ds, const std::string& hash, const std::string& node);

class DaemonSetReconciler : public Reconciler {
 public:
  DaemonSetReconciler(store::Store* store, const State* state, const Clock* clock)
      : store_(store), state_(state), clock_(clock) {}

  std::string_view name() const override { return "DaemonSet"; }
  void KeysFor(const store::Event& event, const State& state,
               std::vector<std::string>* keys) const override;
  void AllKeys(const State& state, std::vector<std::string>* keys) const override;
  absl::StatusOr<Result> Reconcile(const std::string& key) override;

 private:
  store::Store* store_;
  const State* state_;
  const Clock* clock_;
};

}  // namespace reef::reconcile
