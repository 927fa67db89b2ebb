#pragma once
// Editing a graph in place: fresh names, rewiring, erasing and creating nodes.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::graph {

// Hands out names nobody in the graph uses yet (nor any name handed out before).
class FreshNames {
 public:
  // Which names of the graph are taken: value names only, or node names as well (for
  // callers that name nodes and values from one pool).
  enum class Scope { values, values_and_nodes };

  explicit FreshNames(const Graph& graph, Scope scope = Scope::values);

  // `base` when free, else `base` + separator + 1, 2, ... (the first free one).
  std::string take(const std::string& base, std::string_view separator = "_");
  // A short name "t0", "t1", ...: the file-size targets of small models count every byte.
  std::string take_short();
  void reserve(const std::string& name) { taken_.insert(name); }
  bool is_taken(const std::string& name) const { return taken_.count(name) != 0; }

 private:
  std::set<std::string> taken_;
  int next_short_ = 0;
};

class Editor {
 public:
  explicit Editor(Graph& graph, FreshNames::Scope scope = FreshNames::Scope::values)
      : graph_(graph), scope_(scope) {}

  Graph& graph() { return graph_; }
  // Collected from the graph on first use, so editors that only rewire stay cheap.
  FreshNames& names();

  std::string fresh_name(const std::string& base) { return names().take(base); }
  // Adds an initializer under a fresh name derived from `base`; returns the name.
  std::string add_initializer(const std::string& base, Tensor value);
  // Every node input reading `from` reads `to` instead.
  void replace_uses(const std::string& from, const std::string& to);
  // Erases the nodes whose flag is set (flags are indexed like graph.nodes).
  void erase(const std::vector<bool>& flags);

 private:
  Graph& graph_;
  FreshNames::Scope scope_;
  std::optional<FreshNames> names_;
};

Node make_node(std::string op_type, std::string name, std::vector<std::string> inputs,
               std::vector<std::string> outputs, std::map<std::string, AttrValue> attrs = {});

}  // namespace edgeperf::graph
