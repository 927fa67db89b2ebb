// edgeperf report A.json B.json ... : bench reports from several machines merged into
// one device comparison (Markdown on stdout, --json, --md, --html).
#include <fmt/format.h>

#include "edgeperf/bench/merge_report.h"
#include "edgeperf/bench/report.h"
#include "edgeperf/cli/commands.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"

namespace edgeperf::cli {
namespace {

struct ReportOptions {
  std::vector<std::string> reports;
  std::string json, markdown, html;
};

nlohmann::json read_report(const std::string& path) {
  nlohmann::json report = nlohmann::json::parse(read_file(path), nullptr, false);
  EP_CHECK(!report.is_discarded(), "{}: not valid JSON", path);
  return report;
}

void run_report(const ReportOptions& options) {
  std::vector<nlohmann::json> reports;
  for (const std::string& path : options.reports) reports.push_back(read_report(path));
  const nlohmann::json merged = bench::merge_reports(reports, options.reports);
  const std::string table = bench::render_device_table(merged);
  fmt::print("{}", table);
  if (!options.json.empty()) write_file_atomic(options.json, merged.dump(2) + "\n");
  if (!options.markdown.empty()) {
    write_file_atomic(options.markdown,
                      "# edgeperf device comparison\n\n" + table + bench::render_markdown(merged));
  }
  if (!options.html.empty()) write_file_atomic(options.html, bench::render_html(merged));
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* command = app.add_subcommand(
      "report", "Merge bench reports from several machines into one device comparison");
  command->add_option("reports", options->reports, "edgeperf bench --json reports")->required();
  command->add_option("--json", options->json, "Write the merged report as JSON");
  command->add_option("--md", options->markdown, "Write a Markdown report");
  command->add_option("--html", options->html, "Write a self-contained HTML report with charts");
  command->callback([options] { run_report(*options); });
}

}  // namespace edgeperf::cli
