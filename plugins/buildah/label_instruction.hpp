// All of a build's labels in one LABEL instruction, appended to the stage buildah builds.
//
// buildah 1.28 turns each `--label` into a LABEL step of its own, and on the vfs driver
// every step commits a layer (a copy of the whole root file system): four labels cost about
// a second of a two-second image step. The plugin instead builds from a copy of the
// Dockerfile with one `LABEL "k"="v" ...` at the end of the target stage (the last stage
// without --target): one step, one commit, the same labels.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace kiln::buildah {

/// `text` with one LABEL instruction holding `labels` at the end of the stage named `target`
/// (a stage name or index; "" = the last stage). nullopt when the labels cannot be placed
/// safely: a value or name with a control character (a newline would start an instruction
/// of its own), no such stage, or a text ending inside a continuation line. The caller then
/// passes them as --label options.
std::optional<std::string> WithLabelInstruction(const std::string& text, const std::string& target,
                                                const std::map<std::string, std::string>& labels);

/// `value` as a double-quoted Dockerfile word: `escape`, '"' and '$' escaped (LABEL expands
/// variables), so the label holds exactly `value`.
std::string QuotedWord(const std::string& value, char escape);

}  // namespace kiln::buildah
