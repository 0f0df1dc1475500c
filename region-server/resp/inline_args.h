// Splitting of an INLINE command line ("SET k \"a b\"") into arguments, byte for byte like
// Redis 7.0's sdssplitargs (sds.c).
//
// Thread-safe (pure function). Allocation-free when `storage` already has the capacity.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace activekv::resp {

// Splits `line` (without its terminating "\n" / "\r\n"; it must not contain NUL bytes, which
// the parser guarantees) into arguments appended to `args`:
//   - arguments are separated by runs of blanks (leading blanks: ' ' \t \n \v \f \r; an
//     unquoted argument ends at ' ' \t \n \r only);
//   - "..." accepts \n \r \t \b \a \xHH and \<any> escapes; '...' accepts only \' ;
//   - a quote may open anywhere in an argument (foo"bar baz" -> foobar baz), but a closing quote
//     must be followed by a blank or the end of the line;
//   - "" and '' give empty arguments.
// The arguments' bytes are written to `storage`, which is resized to line.size() (decoded
// arguments are never longer than the line), so the views stay valid until `storage` changes.
// Returns false on unbalanced quotes (Redis: "unbalanced quotes in request"); `args` may then
// hold a partial result.
bool SplitInlineArgs(std::string_view line, std::string* storage,
                     std::vector<std::string_view>* args);

}  // namespace activekv::resp
