#include "agent/pods/static_pods.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/escaping.h"
#include "api/manifest/manifest.h"
#include "common/files.h"

namespace reef::agent {
namespace {

using reef::v1::Object;
using reef::v1::Pod;

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), len));
}

// Adds the pods of one parsed file, or says why it cannot be used.
void AddPods(const std::string& file, const std::vector<Object>& objects, const std::string& node,
             StaticPodSet* set) {
  std::map<std::string, StaticPod> found;
  for (const Object& o : objects) {
    Pod pod;
    switch (o.kind_case()) {
      case Object::kPod:
        pod = o.pod();
        pod.mutable_metadata()->set_name(reef::StrCat(o.pod().metadata().name(), "-", node));
        break;
      case Object::kDeployment:
      case Object::kDaemonSet:
        pod = PodFromTemplate(o, node);
        break;
      default:
        continue;  // ConfigMaps and the like are for the controller
    }
    pod.mutable_spec()->set_node_name(node);
    pod.mutable_metadata()->mutable_annotations()->insert({"reef.io/static-source", file});
    std::string key = PodKey(pod);
    if (found.count(key) || set->pods.count(key)) {
      set->errors.push_back(reef::StrCat(file, ": pod ", key, " is defined twice (also in ",
                                         found.count(key) ? file : set->pods[key].source, ")"));
      return;
    }
    found[key] = StaticPod{pod, file, PodSpecHash(pod)};
  }
  set->pods.merge(found);
}

}  // namespace

std::string PodKey(const Pod& pod) {
  return reef::StrCat(pod.metadata().namespace_(), "/", pod.metadata().name());
}

std::string PodSpecHash(const Pod& pod) {
  Pod relevant;
  *relevant.mutable_spec() = pod.spec();
  *relevant.mutable_metadata()->mutable_labels() = pod.metadata().labels();
  *relevant.mutable_metadata()->mutable_annotations() = pod.metadata().annotations();
  std::string bytes;
  google::protobuf::io::StringOutputStream out(&bytes);
  google::protobuf::io::CodedOutputStream coded(&out);
  coded.SetSerializationDeterministic(true);  // map order must not change the hash
  relevant.SerializeToCodedStream(&coded);
  coded.Trim();
  return Sha256Hex(bytes);
}

Pod PodFromTemplate(const Object& workload, const std::string& node_name) {
  const auto& meta = manifest::Meta(workload);
  const reef::v1::PodTemplateSpec& tmpl = workload.has_deployment()
                                              ? workload.deployment().spec().template_()
                                              : workload.daemon_set().spec().template_();
  Pod pod;
  *pod.mutable_metadata() = tmpl.metadata();
  pod.mutable_metadata()->set_name(reef::StrCat(meta.name(), "-", node_name));
  pod.mutable_metadata()->set_namespace_(meta.namespace_());
  *pod.mutable_spec() = tmpl.spec();
  return pod;
}

StaticPodSet LoadStaticPods(const std::string& dir, const std::string& node_name) {
  namespace fs = std::filesystem;
  StaticPodSet set;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return set;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    auto text = ReadFileLimited(file, manifest::kMaxManifestBytes);
    if (!text.ok()) {
      set.errors.emplace_back(text.status().message());
      continue;
    }
    auto objects = manifest::ParseManifest(file, *text);
    if (!objects.ok()) {
      set.errors.emplace_back(objects.status().message());
      continue;
    }
    AddPods(file, *objects, node_name, &set);
  }
  return set;
}

}  // namespace reef::agent
