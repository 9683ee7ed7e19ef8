/// The encoder half of `MessageEmitter`.

extension MessageEmitter {
    /// A statement writing `value` of type `t` to writer `w`.
    func writeStmt(_ t: FieldType, _ value: String, nullable: Bool, flex: String, w: String, splicing: Bool, slice: Bool = false) -> String {
        switch t {
        case .primitive(let p):
            switch p {
            case "bool": return "\(w).writeBool(\(value))"
            case "int8": return "\(w).writeInt8(\(value))"
            case "int16": return "\(w).writeInt16(\(value))"
            case "int32": return "\(w).writeInt32(\(value))"
            case "int64": return "\(w).writeInt64(\(value))"
            case "uint16": return "\(w).writeUInt16(\(value))"
            case "float64": return "\(w).writeFloat64(\(value))"
            case "uuid": return "\(w).writeKafkaUUID(\(value))"
            case "error": return "\(w).writeErrorCode(\(value))"
            case "string": return "try \(w).writeKafka\(nullable ? "Nullable" : "")String(\(value), flexible: \(flex))"
            default: return "try \(w).writeKafka\(nullable ? "Nullable" : "")Bytes\(slice ? "Slice" : "")(\(value), flexible: \(flex))"
            }
        case .structure(let s):
            let sp = splicing && splicePath.contains(s) ? ", splices: &splices" : ""
            if nullable {
                return "if let e = \(value) { \(w).writeInt8(1); try e.encode(into: &\(w), version: version\(sp)) } else { \(w).writeInt8(-1) }"
            }
            return "try \(value).encode(into: &\(w), version: version\(sp))"
        case .array(let e):
            let inner = writeStmt(e, "e", nullable: false, flex: flex, w: "w", splicing: splicing)
            return "try \(w).writeKafka\(nullable ? "Nullable" : "")Array(\(value), flexible: \(flex)) { w, e in \(inner) }"
        }
    }

    func encodeStatements(_ f: Field, within v: VersionRange, flex: String, w: String, splicing: Bool) -> [String] {
        let value = "self.\(f.name)"
        let nc = condition(f.nullable, within: v)
        var stmts: [String]
        if !f.isOptional {
            stmts = [writeStmt(f.type, value, nullable: false, flex: flex, w: w, splicing: splicing, slice: f.isSlice)]
        } else {
            let strictValue = f.attributes.contains("emptyIsNull") ? "(\(value) ?? [])"
                : "kafkaRequire(\(value), \"\(f.name)\")"
            var strict = writeStmt(f.type, strictValue, nullable: false, flex: flex, w: w, splicing: splicing, slice: f.isSlice)
            if !strict.hasPrefix("try ") { strict = "try " + strict }
            let loose = writeStmt(f.type, value, nullable: true, flex: flex, w: w, splicing: splicing, slice: f.isSlice)
            switch nc {
            case .always: stmts = [loose]
            case .never: stmts = [strict]
            case .expr(let c): stmts = ["if \(c) { \(loose) } else { \(strict) }"]
            }
        }
        if f.attributes.contains("splice") {
            // The broker fills these bytes from the log; we write the length and remember where they go.
            var s = ["if let n = spliceLength {",
                     "    guard splices != nil, n >= 0 else { throw KafkaEncodeError.splicedRecords }",
                     "    try \(w).writeKafkaLength(n, flexible: \(flex), wide: true, what: \"records\")",
                     "    splices?.append(\(w).count)",
                     "} else {"]
            s += stmts.map { "    " + $0 }
            s.append("}")
            stmts = s
        }
        return stmts
    }

    mutating func emitEncode(_ s: StructDef, indent i: Int, top: Bool, splicing: Bool) {
        if splicing {
            line("public func encode(into w: inout ByteWriter, version: Int16) throws {", i)
            line("var splices: [Int]? = nil", i + 1)
            line("try encode(into: &w, version: version, splices: &splices)", i + 1)
            line("}", i)
            line("", 0)
            line("/// With `splices` non-nil, spliced records are left out and their offsets in `w` appended.", i)
            line("func encode(into w: inout ByteWriter, version: Int16, splices: inout [Int]?) throws {", i)
        } else {
            line("public func encode(into w: inout ByteWriter, version: Int16) throws {", i)
        }
        if top { line("try kafkaCheckEncode(Self.api, version)", i + 1) }
        if case .expr(let c) = flexCond { line("let flex = \(c)", i + 1) }
        for f in s.fields where !f.isTagged {
            guard let v = f.versions.intersect(ctx.valid) else { continue }
            let body = encodeStatements(f, within: v, flex: flexArg(f.versions), w: "w", splicing: splicing)
            switch condition(f.versions, within: ctx.valid) {
            case .always: body.forEach { line($0, i + 1) }
            case .never: break
            case .expr(let c): emitIf(c, body, indent: i + 1)
            }
        }
        emitTaggedEncode(s, indent: i + 1, splicing: splicing)
        line("}", i)
    }

    mutating func emitTaggedEncode(_ s: StructDef, indent i: Int, splicing: Bool) {
        guard let flexRange = ctx.flexRange?.intersect(ctx.valid) else { return }
        var j = i
        if case .expr = flexCond { line("if flex {", i); j += 1 }
        let tagged = s.fields.filter { f in
            f.tagged.flatMap { $0.intersect(f.versions) }.flatMap { $0.intersect(flexRange) } != nil && f.tag != nil
        }
        if tagged.isEmpty {
            line("w.writeKafkaTaggedFields()", j)
        } else {
            // Tagged fields are written only when they differ from their defaults, as Kafka does.
            line("var tags: [KafkaTaggedField] = []", j)
            for f in tagged {
                guard let tv = f.tagged?.intersect(f.versions), let v = tv.intersect(flexRange), let tag = f.tag else { continue }
                var c = nonDefault(f, "self.\(f.name)")
                if case .expr(let e) = condition(v, within: flexRange) { c = "\(e) && \(c)" }
                line("if \(c) {", j)
                line("var t = ByteWriter()", j + 1)
                encodeStatements(f, within: v, flex: "true", w: "t", splicing: splicing).forEach { line($0, j + 1) }
                line("tags.append(KafkaTaggedField(tag: \(tag), data: t.bytes))", j + 1)
                line("}", j)
            }
            line("w.writeKafkaTaggedFields(tags)", j)
        }
        if case .expr = flexCond { line("}", i) }
    }
}
