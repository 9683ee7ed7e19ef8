/// Checks on a parsed schema that the generated decoders rely on.
enum Validator {
    static func check(_ api: ApiDef) throws {
        guard let hi = api.valid.hi else { throw SchemaError("\(api.name): valid range must be closed") }
        guard api.broker.intersect(api.valid) == api.broker, api.broker.hi != nil else {
            throw SchemaError("\(api.name): broker range must lie inside the valid range")
        }
        for m in [api.request, api.response] {
            let structs = [StructDef(name: m.name, fields: m.fields)] + m.structs
            let byName = Dictionary(structs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for s in structs {
                var tags: Set<Int> = []
                for f in s.fields {
                    if let t = f.tag, !tags.insert(t).inserted { throw SchemaError("\(m.name).\(s.name): tag \(t) twice") }
                    if f.tag != nil, let flex = api.firstFlexible, let tv = f.tagged, tv.lo < flex {
                        throw SchemaError("\(m.name).\(f.name): tagged before the first flexible version")
                    }
                    if f.nullable != nil, case .primitive(let p) = f.type, !["string", "bytes", "records"].contains(p) {
                        throw SchemaError("\(m.name).\(f.name): \(p) cannot be nullable")
                    }
                    if f.isSlice, f.type != .primitive("bytes"), f.type != .primitive("records") {
                        throw SchemaError("\(m.name).\(f.name): only bytes and records can be slices")
                    }
                    guard case .structure(let name) = f.type.element else { continue }
                    guard let child = byName[name] else { throw SchemaError("\(m.name).\(f.name): unknown struct \(name)") }
                    // Every array element must take at least one byte in every version, so a count
                    // bounded by the bytes left also bounds the memory a decoder allocates.
                    guard case .array = f.type else { continue }
                    for v in api.valid.lo...hi where f.versions.contains(v) {
                        let flexible = api.firstFlexible.map { v >= $0 } ?? false
                        let present = child.fields.contains { !$0.isTagged && $0.versions.contains(v) }
                        if !present && !flexible {
                            throw SchemaError("\(m.name).\(f.name): \(name) is empty on the wire at v\(v)")
                        }
                    }
                }
            }
        }
    }
}
