import PatronDomain

/// A dispatch template compiled once, at load, into segments that render straight from
/// ``DispatchVariables``: text, a value, a section. swift-mustache looks every name up through
/// `Any` casts and a context stack (about 3 µs a name: 88 µs for a booking confirmation's
/// subject, text and HTML), on the path of every job the rules and sends compose.
///
/// It knows the part of Mustache the variables can use: `{{name}}`, `{{{name}}}` and
/// `{{& name}}`, `{{#name}}…{{/name}}`, `{{^name}}…{{/name}}`, comments, and standalone tags
/// (a section or comment tag alone on its line takes the line with it). A template using
/// anything else (partials, changed delimiters, pragmas, `{{.}}`, a whole section as a value)
/// does not compile, and ``TemplateLibrary`` renders it with swift-mustache; so does one whose
/// compiled form renders differently from swift-mustache on the probes the library tries at
/// load.
struct CompiledTemplate: Sendable {
    indirect enum Segment: Sendable {
        case text(String)
        case value([String], escaped: Bool)
        case section([String], inverted: Bool, [Segment])
    }

    let segments: [Segment]
    let escapesHTML: Bool

    /// Nil when the template uses Mustache beyond what this form renders.
    init?(source: String, html: Bool) {
        guard let tokens = Self.tokens(source, firstLineStandalone: html), let (segments, rest) = Self.segments(tokens[...], closing: nil), rest.isEmpty else {
            return nil
        }
        self.segments = segments
        self.escapesHTML = html
    }

    func render(_ variables: DispatchVariables) -> String {
        var output = ""
        render(segments, stack: [.root], variables: variables, into: &output)
        return output
    }

    // MARK: Rendering

    /// What a name can be found in: the variables, a section's fields, or one field's value.
    private enum Scope {
        case root
        case section([String: String])
        case value(String)
    }

    private enum Found {
        case value(String)
        case section([String: String])
    }

    private func render(_ segments: [Segment], stack: [Scope], variables: DispatchVariables, into output: inout String) {
        for segment in segments {
            switch segment {
            case .text(let text):
                output += text
            case .value(let name, let escaped):
                if case .value(let text)? = Self.lookUp(name, in: stack, variables: variables) {
                    output += escaped && escapesHTML ? Self.escapeHTML(text) : text
                }
            case .section(let name, let inverted, let block):
                let found = Self.lookUp(name, in: stack, variables: variables)
                switch (found, inverted) {
                case (nil, true):
                    render(block, stack: stack, variables: variables, into: &output)
                case (.value(let text)?, false):
                    render(block, stack: stack + [.value(text)], variables: variables, into: &output)
                case (.section(let fields)?, false):
                    render(block, stack: stack + [.section(fields)], variables: variables, into: &output)
                default:
                    break
                }
            }
        }
    }

    /// Mustache's look-up: the first part in the innermost scope that has it, the rest inside what
    /// it found.
    private static func lookUp(_ name: [String], in stack: [Scope], variables: DispatchVariables) -> Found? {
        for scope in stack.reversed() {
            let first: Found?
            switch scope {
            case .root: first = variables.sections[name[0]].map(Found.section) ?? variables.values[name[0]].map(Found.value)
            case .section(let fields): first = fields[name[0]].map(Found.value)
            case .value: first = nil
            }
            guard let first else { continue }
            guard name.count > 1 else { return first }
            guard name.count == 2, case .section(let fields) = first else { return nil }
            return fields[name[1]].map(Found.value)
        }
        return nil
    }

    /// swift-mustache's escaping of HTML.
    static func escapeHTML(_ text: String) -> String {
        let needsEscaping = text.utf8.contains { byte in
            switch byte {
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"), UInt8(ascii: "\""), UInt8(ascii: "'"): true
            default: false
            }
        }
        guard needsEscaping else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for character in text {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    // MARK: Compiling

    private enum Token {
        case text(String)
        case value([String], escaped: Bool)
        case open([String], inverted: Bool)
        case close([String])
    }

    /// The source as tokens, standalone tags' lines removed; nil for Mustache this form does not
    /// render. `firstLineStandalone` is false for the plain-text parts, whose first line
    /// swift-mustache reads behind the content-type pragma the library puts there.
    private static func tokens(_ source: String, firstLineStandalone: Bool) -> [Token]? {
        var tokens: [Token] = []
        var rest = Substring(source)
        // Whether `rest` begins a line.
        var atLineStart = firstLineStandalone
        while let open = rest.range(of: "{{") {
            var text = rest[..<open.lowerBound]
            let textStartsLine = atLineStart
            rest = rest[open.upperBound...]
            let triple = rest.first == "{"
            if triple { rest = rest.dropFirst() }
            guard let close = rest.range(of: triple ? "}}}" : "}}") else { return nil }
            let inside = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            guard let sigil = inside.first else { return nil }
            let token: Token?
            func name(_ text: Substring) -> [String]? {
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                guard !trimmed.isEmpty, parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else { return nil }
                return parts
            }
            switch sigil {
            case _ where triple: token = name(Substring(inside)).map { .value($0, escaped: false) }
            case "&": token = name(inside.dropFirst()).map { .value($0, escaped: false) }
            case "#": token = name(inside.dropFirst()).map { .open($0, inverted: false) }
            case "^": token = name(inside.dropFirst()).map { .open($0, inverted: true) }
            case "/": token = name(inside.dropFirst()).map { .close($0) }
            case "!": token = nil
            case ">", "=", "%", "$", "<", "{": return nil
            default: token = name(Substring(inside)).map { .value($0, escaped: true) }
            }
            let standalone: Bool
            switch token {
            case .open?, .close?, nil: standalone = true
            default: standalone = false
            }
            if sigil != "!", token == nil { return nil }
            if case .value(let name, _)? = token, name.count == 1, DispatchVariables.known[name[0]] != nil { return nil }
            // A standalone tag: only white space before it on its line and after it up to the line's end.
            atLineStart = false
            if standalone, let lineStart = lineStart(of: text, startsLine: textStartsLine) {
                let lineEnd = rest.firstIndex { $0 == "\n" || !$0.isWhitespace } ?? rest.endIndex
                if lineEnd == rest.endIndex || rest[lineEnd] == "\n" {
                    text = text[..<lineStart]
                    rest = lineEnd == rest.endIndex ? rest[lineEnd...] : rest[rest.index(after: lineEnd)...]
                    atLineStart = true
                }
            }
            if !text.isEmpty { tokens.append(.text(String(text))) }
            if let token { tokens.append(token) }
        }
        if !rest.isEmpty { tokens.append(.text(String(rest))) }
        return tokens
    }

    /// Where the white space that ends `text` begins, if it reaches back to a line's start (a
    /// newline in `text`, or `text`'s start when that `startsLine`).
    private static func lineStart(of text: Substring, startsLine: Bool) -> Substring.Index? {
        var index = text.endIndex
        while index > text.startIndex {
            let before = text.index(before: index)
            if text[before] == "\n" { return index }
            guard text[before].isWhitespace else { return nil }
            index = before
        }
        return startsLine ? index : nil
    }

    private static func segments(_ tokens: ArraySlice<Token>, closing: [String]?) -> ([Segment], ArraySlice<Token>)? {
        var segments: [Segment] = []
        var rest = tokens
        while let token = rest.first {
            rest = rest.dropFirst()
            switch token {
            case .text(let text): segments.append(.text(text))
            case .value(let name, let escaped): segments.append(.value(name, escaped: escaped))
            case .open(let name, let inverted):
                guard let (block, after) = Self.segments(rest, closing: name) else { return nil }
                segments.append(.section(name, inverted: inverted, block))
                rest = after
            case .close(let name):
                guard name == closing else { return nil }
                return (segments, rest)
            }
        }
        return closing == nil ? (segments, rest) : nil
    }
}
