// ImageStore over FakeRegistry and hand-made archives: pull policies, concurrent pulls,
// verification, platform checks, garbage collection, import, and the Snapshotter seam.

#include "agent/image/image_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "agent/image/single_flight.h"
#include "agent/image/snapshotter.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace reef::agent::image {
namespace {

using testing::FakeRegistry;

// Records Prepare calls; "unpacks" into a map.
class FakeSnapshotter final : public Snapshotter {
 public:
  absl::StatusOr<std::string> Prepare(const std::string& chain_id, const std::string& parent,
                                      const std::string& blob) override {
    absl::MutexLock lock(&mu_);
    if (!parent.empty() && !snapshots_.contains(parent)) {
      return absl::FailedPreconditionError("parent not prepared");
    }
    if (!std::filesystem::exists(blob)) return absl::NotFoundError("no blob " + blob);
    if (snapshots_.emplace(chain_id, parent).second) ++unpacks_;
    return "/snapshots/" + chain_id;
  }
  absl::StatusOr<std::vector<std::string>> LowerDirs(const std::string&) override {
    return std::vector<std::string>();
  }
  absl::StatusOr<SnapshotInfo> Stat(const std::string& chain_id) override {
    absl::MutexLock lock(&mu_);
    auto it = snapshots_.find(chain_id);
    if (it == snapshots_.end()) return absl::NotFoundError(chain_id);
    return SnapshotInfo{chain_id, it->second, "/snapshots/" + chain_id, 0, 0};
  }
  absl::StatusOr<std::vector<SnapshotInfo>> List() override {
    absl::MutexLock lock(&mu_);
    std::vector<SnapshotInfo> out;
    for (const auto& [chain, parent] : snapshots_) out.push_back({chain, parent, "", 0, 0});
    return out;
  }
  absl::Status Remove(const std::string& chain_id) override {
    absl::MutexLock lock(&mu_);
    for (const auto& [chain, parent] : snapshots_) {
      if (parent == chain_id) return absl::FailedPreconditionError("has a child");
    }
    snapshots_.erase(chain_id);
    return absl::OkStatus();
  }
  int unpacks() {
    absl::MutexLock lock(&mu_);
    return unpacks_;
  }
  std::set<std::string> chains() {
    absl::MutexLock lock(&mu_);
    std::set<std::string> out;
    for (const auto& [chain, parent] : snapshots_) out.insert(chain);
    return out;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> snapshots_;  // chain -> parent
  int unpacks_ = 0;
};

struct Fixture {
  FakeRegistry registry;
  testing::TempDir dir;
  FakeSnapshotter snapshotter;
  std::unique_ptr<ImageStore> store;

  explicit Fixture(bool with_snapshotter = false) {
    ImageStoreOptions options;
    options.root = dir.path() + "/images";
    options.http = &registry.client();
    options.registry.initial_backoff = absl::Milliseconds(1);
    options.registry.max_attempts = 2;
    options.platform = {"linux", "amd64", ""};
    if (with_snapshotter) options.snapshotter = &snapshotter;
    store = *ImageStore::Open(std::move(options));
  }

  static PullOptions Policy(PullPolicy policy) {
    PullOptions o;
    o.policy = policy;
    o.platform = {"linux", "amd64", ""};
    return o;
  }
};

TEST_CASE("pull stores an image that Get and List return") {
  Fixture f;
  auto built = f.registry.AddImage("app", "1", {"base layer", "top layer"});
  auto image = f.store->Pull("registry.test/app:1", Fixture::Policy(PullPolicy::kIfNotPresent));
  REQUIRE_MESSAGE(image.ok(), image.status().ToString());
  CHECK(image->reference == "registry.test/app:1");
  CHECK(image->manifest_digest == built.manifest);
  CHECK(image->config_digest == built.config);
  CHECK(image->config.cmd == std::vector<std::string>{"/bin/sh"});
  CHECK(image->config.env == std::vector<std::string>{"PATH=/bin"});
  REQUIRE(image->layers.size() == 2);
  CHECK(image->layers[0].diff_id == Digest::Of("base layer"));
  CHECK(image->layers[0].chain_id == image->layers[0].diff_id.ToString());
  CHECK(image->layers[1].chain_id ==
        ChainId(image->layers[0].chain_id, image->layers[1].diff_id.ToString()));
  CHECK(std::filesystem::exists(image->layers[1].path));
  CHECK(image->layers[1].snapshot.empty());  // no Snapshotter
  const auto config_size = std::filesystem::file_size(f.dir.path() + "/images/blobs/sha256/" +
                                                     built.config.hex());
  // Manifest, config and the two layers ("base layer" and "top layer").
  CHECK(image->size == static_cast<int64_t>(built.manifest_body.size() + config_size + 10 + 9));

  auto got = f.store->Get("registry.test/app:1");
  REQUIRE(got.ok());
  CHECK(got->manifest_digest == built.manifest);
  auto list = f.store->List();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK(absl::IsNotFound(f.store->Get("registry.test/app:2").status()));
}

TEST_CASE("pull policies") {
  Fixture f;
  auto built = f.registry.AddImage("app", "1", {"layer"});
  auto& http = f.registry.client();

  auto never = f.store->Pull("registry.test/app:1", Fixture::Policy(PullPolicy::kNever));
  REQUIRE_FALSE(never.ok());
  CHECK(absl::IsFailedPrecondition(never.status()));
  CHECK(std::string(never.status().message()) ==
        "pull registry.test/app:1: the image is not present and the pull policy is Never");
  CHECK(http.requests().empty());

  REQUIRE(f.store->Pull("registry.test/app:1", Fixture::Policy(PullPolicy::kIfNotPresent)).ok());
  const size_t after_first = http.requests().size();
  REQUIRE(f.store->Pull("registry.test/app:1", Fixture::Policy(PullPolicy::kIfNotPresent)).ok());
  REQUIRE(f.store->Pull("registry.test/app:1", Fixture::Policy(PullPolicy::kNever)).ok());
  CHECK(http.requests().size() == after_first);

  // Always asks for the manifest again, but present blobs are not downloaded again.
  REQUIRE(f.store->Pull("registry.test/app:1", Fixture::Policy(PullPolicy::kAlways)).ok());
  CHECK(http.CountRequests("/manifests/1") == 2);
  CHECK(http.CountRequests("/blobs/") == 2);  // config and layer, once each

  // Always with a digest that is here: content cannot have changed.
  const std::string by_digest = "registry.test/app@" + built.manifest.ToString();
  REQUIRE(f.store->Pull(by_digest, Fixture::Policy(PullPolicy::kAlways)).ok());
  const size_t before = http.requests().size();
  REQUIRE(f.store->Pull(by_digest, Fixture::Policy(PullPolicy::kAlways)).ok());
  CHECK(http.requests().size() == before);
}

TEST_CASE("concurrent pulls of one image download each blob once") {
  Fixture f;
  f.registry.AddImage("app", "1", {std::string(200'000, 'a'), std::string(300'000, 'b')});
  constexpr int kPullers = 6;
  std::vector<absl::StatusOr<Image>> results(kPullers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPullers; ++i) {
    threads.emplace_back([&, i] {
      results[i] = f.store->Pull("registry.test/app:1", Fixture::Policy(PullPolicy::kAlways));
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& r : results) {
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->manifest_digest == results[0]->manifest_digest);
  }
  CHECK(f.registry.client().CountRequests("/blobs/") == 3);
}

TEST_CASE("SingleFlight runs one call per key and hands its result to every waiter") {
  SingleFlight<int> flight;
  absl::Notification release;
  std::atomic<int> runs = 0;
  std::vector<int> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      results[i] = flight.Do("k", [&] {
        ++runs;
        release.WaitForNotification();
        return 42;
      });
    });
  }
  // Deterministic overlap: release the leader only once all four share its call.
  while (flight.CallersForTest("k") < 4) std::this_thread::yield();
  release.Notify();
  for (std::thread& t : threads) t.join();
  CHECK(runs == 1);
  CHECK(results == std::vector<int>{42, 42, 42, 42});
  CHECK(flight.CallersForTest("k") == 0);
  CHECK(flight.Do("k", [] { return 7; }) == 7);  // results are not cached
}

TEST_CASE("a pull whose blob does not match its digest stores and names nothing") {
  Fixture f;
  auto built = f.registry.AddImage("app", "1", {"good", "also good"});
  f.registry.CorruptBlob(built.layers[1]);
  auto image = f.store->Pull("registry.test/app:1", Fixture::Policy(PullPolicy::kIfNotPresent));
  REQUIRE_FALSE(image.ok());
  CHECK(absl::IsDataLoss(image.status()));
  const std::string message(image.status().message());
  CHECK(message.find("pull registry.test/app:1: fetch layer 1: ") == 0);
  CHECK(message.find("digest mismatch") != std::string::npos);
  CHECK(absl::IsNotFound(f.store->Get("registry.test/app:1").status()));
  CHECK_FALSE(
      std::filesystem::exists(f.dir.path() + "/images/blobs/sha256/" + built.layers[1].hex()));
  CHECK(std::filesystem::is_empty(f.dir.path() + "/images/ingest"));
}

TEST_CASE("an image for another platform is refused before its layers move") {
  Fixture f;
  f.registry.AddImage("arm", "1", {"arm layer"}, {"linux", "arm64", "v8"});
  auto image = f.store->Pull("registry.test/arm:1", Fixture::Policy(PullPolicy::kIfNotPresent));
  REQUIRE_FALSE(image.ok());
  CHECK(absl::IsFailedPrecondition(image.status()));
  CHECK(std::string(image.status().message())
            .find("the image is for linux/arm64/v8, this node is linux/amd64") !=
        std::string::npos);
  CHECK(f.registry.client().CountRequests("/blobs/") == 1);  // the config only
}

TEST_CASE("layers are unpacked through the Snapshotter, shared, and collected") {
  Fixture f(/*with_snapshotter=*/true);
  f.registry.AddImage("a", "1", {"shared base", "a top"});
  f.registry.AddImage("b", "1", {"shared base", "b top"});
  auto a = f.store->Pull("registry.test/a:1", Fixture::Policy(PullPolicy::kIfNotPresent));
  auto b = f.store->Pull("registry.test/b:1", Fixture::Policy(PullPolicy::kIfNotPresent));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->layers[1].snapshot == "/snapshots/" + a->layers[1].chain_id);
  CHECK(a->layers[0].chain_id == b->layers[0].chain_id);
  CHECK(f.snapshotter.unpacks() == 3);
  CHECK(f.registry.client().CountRequests(Digest::Of("shared base").hex()) == 1);

  // b goes; a's container keeps nothing extra; nothing in use is removed.
  REQUIRE(f.store->Remove("registry.test/b:1").ok());
  GcOptions in_use;
  in_use.snapshots_in_use = {b->layers[1].chain_id};  // a container still runs b
  auto kept = f.store->GarbageCollect(in_use);
  REQUIRE(kept.ok());
  CHECK(kept->snapshots_removed == 0);
  CHECK(kept->blobs.blobs_removed == 3);  // b's manifest, config, top layer blob
  auto gone = f.store->GarbageCollect();
  REQUIRE(gone.ok());
  CHECK(gone->snapshots_removed == 1);
  CHECK(f.snapshotter.chains() ==
        std::set<std::string>{a->layers[0].chain_id, a->layers[1].chain_id});
  REQUIRE(f.store->Get("registry.test/a:1").ok());
}

// ---- import ----

struct TarEntry {
  std::string name;
  std::string content;
  std::string symlink;  // non-empty: a symlink to this
};

void WriteTar(const std::string& path, const std::vector<TarEntry>& entries, bool gzip = false) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  for (const TarEntry& e : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    if (!e.symlink.empty()) {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, e.symlink.c_str());
      archive_entry_set_perm(entry, 0777);
    } else {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_perm(entry, 0644);
      archive_entry_set_size(entry, static_cast<la_int64_t>(e.content.size()));
    }
    REQUIRE(archive_write_header(a, entry) == ARCHIVE_OK);
    if (e.symlink.empty()) archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string ConfigJson(const std::vector<std::string>& layers, const std::string& arch = "amd64") {
  nlohmann::json diff_ids = nlohmann::json::array();
  for (const std::string& layer : layers) diff_ids.push_back(Digest::Of(layer).ToString());
  return nlohmann::json{{"architecture", arch},
                        {"os", "linux"},
                        {"config", {{"Cmd", {"/bin/true"}}}},
                        {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
      .dump();
}

// A docker-archive as `docker save` writes it: layer tars under <id>/, one symlinked.
std::vector<TarEntry> DockerArchive(const std::string& config,
                                    const std::vector<std::string>& layers,
                                    const std::string& repo_tag) {
  std::vector<TarEntry> entries;
  nlohmann::json layer_names = nlohmann::json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string name = Digest::Of(layers[i]).hex() + ".tar";
    entries.push_back({name, layers[i], ""});
    entries.push_back({"layer" + std::to_string(i) + "/layer.tar", "", "../" + name});
    layer_names.push_back("layer" + std::to_string(i) + "/layer.tar");
  }
  const std::string config_name = Digest::Of(config).hex() + ".json";
  entries.push_back({config_name, config, ""});
  nlohmann::json manifest = nlohmann::json::array(
      {{{"Config", config_name}, {"RepoTags", {repo_tag}}, {"Layers", layer_names}}});
  entries.push_back({"manifest.json", manifest.dump(), ""});
  return entries;
}

TEST_CASE("import a docker-archive: symlinked layers, diff_ids checked, then Get") {
  Fixture f;
  const std::vector<std::string> layers = {"tar one", "tar two"};
  const std::string tar = f.dir.path() + "/saved.tar.gz";
  WriteTar(tar, DockerArchive(ConfigJson(layers), layers, "local/app:v1"), /*gzip=*/true);
  auto images = f.store->Import(tar);
  REQUIRE_MESSAGE(images.ok(), images.status().ToString());
  REQUIRE(images->size() == 1);
  CHECK((*images)[0].reference == "docker.io/local/app:v1");
  CHECK((*images)[0].layers[1].blob.media_type == media_type::kOciLayer);
  auto got = f.store->Get("local/app:v1");
  REQUIRE(got.ok());
  CHECK(got->config.cmd == std::vector<std::string>{"/bin/true"});
  CHECK(f.registry.client().requests().empty());
  CHECK(std::filesystem::is_empty(f.dir.path() + "/images/ingest"));
}

TEST_CASE("bad archives are refused and name nothing") {
  Fixture f;
  const std::vector<std::string> layers = {"the real layer"};
  auto expect_error = [&](const std::vector<TarEntry>& entries, std::string_view fragment) {
    const std::string tar = f.dir.path() + "/bad.tar";
    WriteTar(tar, entries);
    auto images = f.store->Import(tar);
    REQUIRE_FALSE(images.ok());
    const std::string message(images.status().message());
    CHECK_MESSAGE(message.find(fragment) != std::string::npos, message);
    CHECK(message.find("import " + tar) == 0);
    CHECK(f.store->List()->empty());
  };
  SUBCASE("a layer that is not what the config's diff_ids say") {
    auto entries = DockerArchive(ConfigJson({"another layer"}), layers, "app:1");
    expect_error(entries, "vs rootfs.diff_ids[0]: digest mismatch");
  }
  SUBCASE("a layer listed but missing") {
    auto entries = DockerArchive(ConfigJson(layers), layers, "app:1");
    entries.erase(entries.begin());  // the layer tar the symlink points to
    expect_error(entries, "Layers[0]: no entry layer0/layer.tar");
  }
  SUBCASE("an OCI blob whose content is not its name") {
    const std::string config = ConfigJson(layers);
    Manifest m;
    m.media_type = media_type::kOciManifest;
    m.config = {std::string(media_type::kOciConfig),
                Digest::Of(config),
                static_cast<int64_t>(config.size()),
                std::nullopt,
                {}};
    m.layers = {{std::string(media_type::kOciLayer),
                 Digest::Of(layers[0]),
                 static_cast<int64_t>(layers[0].size()),
                 std::nullopt,
                 {}}};
    const std::string manifest = SerializeManifest(m);
    const std::string index = reef::StrCat(
        R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")",
        Digest::Of(manifest).ToString(), R"(","size":)", manifest.size(),
        R"(,"annotations":{"org.opencontainers.image.ref.name":"app:1"}}]})");
    expect_error({{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})", ""},
                  {"index.json", index, ""},
                  {"blobs/sha256/" + Digest::Of(manifest).hex(), manifest, ""},
                  {"blobs/sha256/" + Digest::Of(config).hex(), config, ""},
                  {"blobs/sha256/" + Digest::Of(layers[0]).hex(), "tampered layer", ""}},
                 "digest mismatch");
  }
  SUBCASE("no image name") {
    expect_error({{"index.json", R"({"schemaVersion":2,"manifests":[]})", ""}}, "names no image");
  }
  SUBCASE("not an image archive") {
    expect_error({{"etc/passwd", "root:x:0:0", ""}}, "not an image archive");
  }
  SUBCASE("an image for another platform") {
    auto entries = DockerArchive(ConfigJson(layers, "arm64"), layers, "app:1");
    expect_error(entries, "the image is for linux/arm64/v8");
  }
  SUBCASE("not a tar at all") {
    const std::string tar = f.dir.path() + "/bad.tar";
    std::ofstream(tar) << "this is not a tar file, not even close, and rather long than short";
    auto images = f.store->Import(tar);
    REQUIRE_FALSE(images.ok());
    CHECK(f.store->List()->empty());
  }
}

TEST_CASE("ImportFolder imports every archive and reports each") {
  Fixture f;
  const std::string folder = f.dir.path() + "/images-dir";
  std::filesystem::create_directories(folder);
  const std::vector<std::string> one = {"layer of one"}, two = {"layer of two"};
  WriteTar(folder + "/a.tar", DockerArchive(ConfigJson(one), one, "one:1"));
  WriteTar(folder + "/b.tar.gz", DockerArchive(ConfigJson(two), two, "two:1"), /*gzip=*/true);
  WriteTar(folder + "/c.tar", {{"junk", "x", ""}});
  std::ofstream(folder + "/README") << "not an archive, not imported";
  auto results = f.store->ImportFolder(folder);
  REQUIRE(results.size() == 3);
  CHECK(results[0].images.ok());
  CHECK(results[1].images.ok());
  CHECK_FALSE(results[2].images.ok());
  CHECK(results[2].file == folder + "/c.tar");
  CHECK(f.store->Get("one:1").ok());
  CHECK(f.store->Get("two:1").ok());
  CHECK(f.store->ImportFolder(f.dir.path() + "/no-such-folder").empty());
}

}  // namespace
}  // namespace reef::agent::image
