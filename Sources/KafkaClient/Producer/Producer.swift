import Dispatch
import Foundation
import Protocol
import Synchronization
import Transport

/// Producer settings (Kafka's names in comments; defaults as in Kafka 3.x).
public struct ProducerConfig: Sendable {
    public var client: ClientConfig
    /// acks: 0, 1 or -1 (all).
    public var acks: Int16 = -1
    /// batch.size
    public var batchSize = 16384
    /// linger.ms
    public var lingerMs = 5
    /// buffer.memory
    public var bufferMemory = 32 << 20
    /// compression.type (none or gzip; snappy/lz4 also encode).
    public var compression: CompressionType = .none
    /// retries
    public var retries = Int.max
    /// delivery.timeout.ms
    public var deliveryTimeoutMs = 120_000
    /// max.in.flight.requests.per.connection (at most 5 with idempotence).
    public var maxInFlightPerConnection = 5
    /// enable.idempotence (only effective with acks=all, as in Kafka).
    public var enableIdempotence = true
    /// max.block.ms: how long send() may wait for metadata or buffer space.
    public var maxBlockMs = 60_000
    /// max.request.size
    public var maxRequestSize = 1 << 20
    /// allow.auto.create.topics
    public var allowAutoCreateTopics = true
    /// transactional.id: enables initTransactions/beginTransaction/commitTransaction (needs idempotence).
    public var transactionalId: String?
    /// transaction.timeout.ms: the coordinator aborts a transaction left open longer.
    public var transactionTimeoutMs = 60_000
    /// Seed for sticky partition choice (tests).
    public var partitionerSeed: UInt64 = UInt64.random(in: 0...UInt64.max)

    public init(client: ClientConfig) { self.client = client }
    public init(bootstrapServers: [String]) { self.client = ClientConfig(bootstrapServers: bootstrapServers) }

    var idempotent: Bool { enableIdempotence && acks == -1 }
}

/// A record to send. Keys and values are bytes; see `Serializer` for strings.
public struct ProducerRecord: Sendable {
    public var topic: String
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Create time in ms since the epoch; nil = now.
    public var timestamp: Int64?

    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?,
                headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.topic = topic; self.partition = partition; self.key = key; self.value = value
        self.headers = headers; self.timestamp = timestamp
    }

    public init(topic: String, partition: Int32? = nil, key: String?, value: String?, headers: [RecordHeader] = []) {
        self.init(topic: topic, partition: partition, key: StringSerializer().serialize(key),
                  value: StringSerializer().serialize(value), headers: headers)
    }
}

public protocol Serializer: Sendable {
    associatedtype Value
    func serialize(_ v: Value?) -> [UInt8]?
}

public protocol Deserializer: Sendable {
    associatedtype Value
    func deserialize(_ b: [UInt8]?) -> Value?
}

public struct StringSerializer: Serializer, Deserializer {
    public init() {}
    public func serialize(_ v: String?) -> [UInt8]? { v.map { Array($0.utf8) } }
    public func deserialize(_ b: [UInt8]?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }
}

public struct BytesSerializer: Serializer, Deserializer {
    public init() {}
    public func serialize(_ v: [UInt8]?) -> [UInt8]? { v }
    public func deserialize(_ b: [UInt8]?) -> [UInt8]? { b }
}

/// An asynchronous, batching, idempotent Kafka producer. `send` is thread-safe and returns once the
/// record is in the accumulator; a sender on the client's loop thread ships ready batches.
/// Delivery callbacks run on that loop thread: keep them short and never block in them.
public final class Producer: @unchecked Sendable {
    public let config: ProducerConfig
    public let cluster: KafkaCluster
    private let ownsCluster: Bool

    struct Shared {
        var accumulator: RecordAccumulator
        var partitioner: Partitioner
        var closed = false
    }
    let shared: Mutex<Shared>
    /// Signalled when buffer memory is freed or records complete.
    let cond = NSCondition()
    let incomplete = Atomic<Int>(0)
    private let wakeQueued = Atomic<Bool>(false)
    let fatal = Mutex<KafkaError?>(nil)
    /// Transaction bookkeeping (nil without transactional.id) and the id/epoch InitProducerId gave.
    let txn: TransactionBox?
    let txnIds = Mutex<(Int64, Int16)>((-1, -1))
    /// A batch failed after it took sequence numbers: the broker would refuse the next ones as out of
    /// order, so abortTransaction() takes a new epoch (InitProducerId again).
    let sequenceGap = Atomic<Bool>(false)

    // Loop-confined sender state.
    private var idem = IdempotenceState()
    private var idempotent: Bool
    private var producerIdInFlight = false
    private var timerAtMs: UInt64?
    private var inFlightPerNode: [Int32: Int] = [:]
    private var metadataRefreshInFlight = false

    public init(config: ProducerConfig, cluster: KafkaCluster? = nil) throws {
        guard config.acks == 0 || config.acks == 1 || config.acks == -1 else {
            throw KafkaError.invalidArgument("acks must be 0, 1 or -1/all")
        }
        guard config.batchSize > 0, config.lingerMs >= 0, config.bufferMemory >= config.batchSize else {
            throw KafkaError.invalidArgument("batch.size, linger.ms or buffer.memory out of range")
        }
        if let id = config.transactionalId {
            guard !id.isEmpty else { throw KafkaError.invalidArgument("transactional.id must not be empty") }
            guard config.idempotent else {
                throw KafkaError.invalidArgument("transactional.id needs enable.idempotence=true and acks=all")
            }
            guard config.transactionTimeoutMs > 0 else { throw KafkaError.invalidArgument("transaction.timeout.ms must be positive") }
            txn = TransactionBox(TransactionManager(transactionalId: id))
        } else {
            txn = nil
        }
        self.config = config
        if let cluster {
            self.cluster = cluster
            ownsCluster = false
        } else {
            self.cluster = try KafkaCluster(config: config.client)
            ownsCluster = true
        }
        idempotent = config.idempotent
        shared = Mutex(Shared(
            accumulator: RecordAccumulator(config: .init(batchSize: config.batchSize, lingerMs: config.lingerMs,
                                                         bufferMemory: config.bufferMemory)),
            partitioner: Partitioner(batchSize: config.batchSize, seed: config.partitionerSeed)))
    }

    deinit {
        if ownsCluster { cluster.close() }
    }

    // MARK: send

    /// Queues a record. Throws at once for bad input, unknown topics, a full buffer (after
    /// max.block.ms) or a closed producer; everything later goes to `callback`.
    public func send(_ record: ProducerRecord, callback: DeliveryCallback? = nil) throws {
        if let e = fatal.withLock({ $0 }) { throw e }
        let info = try topicInfo(record.topic)
        let ts = record.timestamp ?? WallClock.millis()
        let size = BatchBuilder.encodedSize(offsetDelta: 0, timestampDelta: 0, key: record.key, value: record.value,
                                            headers: record.headers)
        guard size + RecordBatchLayout.headerSize <= config.maxRequestSize, size <= config.bufferMemory else {
            throw KafkaError.broker(.messageTooLarge, "record of \(size) bytes exceeds max.request.size/buffer.memory")
        }
        let deadline = MonotonicClock.millis() + UInt64(config.maxBlockMs)
        let p = try shared.withLock { s in
            if s.closed { throw KafkaError.closed }
            return try s.partitioner.partition(topic: record.topic, key: record.key, explicit: record.partition,
                                               numPartitions: info.partitionCount, available: info.available)
        }
        let tp = TopicPartition(record.topic, p)
        if txn != nil { try ensureInTransaction(tp) }
        while true {
            let outcome: Result<RecordAccumulator.AppendResult, KafkaError>? = shared.withLock { s in
                if s.closed { return .failure(.closed) }
                guard s.accumulator.hasRoom(for: size) else { return nil }
                let r = s.accumulator.append(tp, timestamp: ts, key: record.key, value: record.value,
                                             headers: record.headers, callback: callback, nowMs: MonotonicClock.millis())
                s.partitioner.recordAppended(topic: record.topic, partition: p, bytes: r.bytes)
                return .success(r)
            }
            switch outcome {
            case .success(let r)?:
                incomplete.add(1, ordering: .relaxed)
                if r.newBatch || r.batchFull { wakeSender() }
                return
            case .failure(let e)?:
                throw e
            case nil:
                // Buffer full: wait for completions to free memory (back-pressure).
                wakeSender()
                let now = MonotonicClock.millis()
                guard now < deadline else { throw KafkaError.bufferExhausted }
                cond.lock()
                _ = cond.wait(until: Date(timeIntervalSinceNow: Double(min(deadline - now, 50)) / 1000))
                cond.unlock()
            }
        }
    }

    /// Sends and suspends until the broker acknowledges (or the record fails).
    public func send(_ record: ProducerRecord) async throws -> RecordMetadata {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<RecordMetadata, Error>) in
            do {
                try send(record) { r in k.resume(with: r.mapError { $0 as Error }) }
            } catch {
                k.resume(throwing: error)
            }
        }
    }

    /// Sends and blocks until acknowledged.
    @discardableResult
    public func sendAndWait(_ record: ProducerRecord, timeoutMs: Int? = nil) throws -> RecordMetadata {
        let box = ResultBox<RecordMetadata>()
        try send(record) { box.set($0) }
        guard let r = box.wait(timeoutMs: timeoutMs ?? config.deliveryTimeoutMs + 5000) else {
            throw KafkaError.timeout("delivery")
        }
        return try r.get()
    }

    /// Makes every queued record ready now and waits until all have completed.
    public func flush(timeoutMs: Int = Int.max / 4) throws {
        shared.withLock { $0.accumulator.flushing = true }
        defer { shared.withLock { $0.accumulator.flushing = false } }
        wakeSender()
        let deadline = MonotonicClock.millis() + UInt64(timeoutMs)
        while incomplete.load(ordering: .relaxed) > 0 {
            let now = MonotonicClock.millis()
            guard now < deadline else { throw KafkaError.timeout("flush") }
            cond.lock()
            if incomplete.load(ordering: .relaxed) > 0 {
                _ = cond.wait(until: Date(timeIntervalSinceNow: Double(min(deadline - now, 100)) / 1000))
            }
            cond.unlock()
            wakeSender()
        }
    }

    /// Flushes (up to `timeoutMs`), then fails whatever is left and stops accepting records.
    public func close(timeoutMs: Int = 30_000) {
        try? flush(timeoutMs: timeoutMs)
        let left = shared.withLock { s -> [ProducerBatch] in
            s.closed = true
            return s.accumulator.abortAll()
        }
        for b in left { complete(b, .failure(.closed)) }
        if ownsCluster { cluster.close() }
    }

    /// Records accepted and not yet completed.
    public var pendingRecords: Int { incomplete.load(ordering: .relaxed) }

    private func topicInfo(_ topic: String) throws -> TopicInfo {
        guard !topic.isEmpty else { throw KafkaError.invalidArgument("empty topic name") }
        if let t = cluster.metadata.topics[topic], t.partitionCount > 0 { return t }
        let deadline = MonotonicClock.millis() + UInt64(config.maxBlockMs)
        while true {
            let md = try cluster.refreshMetadata(topics: [topic], allowAutoCreate: config.allowAutoCreateTopics)
            if let t = md.topics[topic], t.partitionCount > 0 { return t }
            if MonotonicClock.millis() + UInt64(config.client.retryBackoffMs) >= deadline {
                throw KafkaError.unknownTopic(topic)
            }
            usleep(UInt32(config.client.retryBackoffMs) * 1000)
        }
    }

    // MARK: sender (loop thread)

    private func wakeSender() {
        if wakeQueued.exchange(true, ordering: .acquiringAndReleasing) { return }
        cluster.onLoop { [self] in
            wakeQueued.store(false, ordering: .releasing)
            runSender()
        }
    }

    private func runSender() {
        if idempotent && !idem.hasProducerId {
            // A transactional producer gets its id from initTransactions(), never here.
            if txn == nil { initProducerId() }
            return
        }
        let now = MonotonicClock.millis()
        let expired = shared.withLock { s -> [ProducerBatch] in
            guard now > UInt64(config.deliveryTimeoutMs) else { return [] }
            return s.accumulator.expire(createdBeforeMs: now - UInt64(config.deliveryTimeoutMs))
        }
        for b in expired {
            if txn != nil {
                noteTransactionFailure(.timeout("delivery.timeout.ms"))
                if b.baseSequence != nil { sequenceGap.store(true, ordering: .relaxed) }
            }
            complete(b, .failure(.timeout("\(b.recordCount) record(s) for \(b.tp) expired after delivery.timeout.ms")))
        }
        let (ready, nextMs) = shared.withLock { $0.accumulator.ready(nowMs: now) }
        let md = cluster.metadataOnLoop
        var byNode: [Int32: [TopicPartition]] = [:]
        var needMetadata = false
        for tp in ready {
            guard let leader = md.leader(for: tp) else { needMetadata = true; continue }
            if idempotent && idem.inFlightCount(tp) >= 5 { continue }
            byNode[leader, default: []].append(tp)
        }
        for (node, tps) in byNode {
            // Idempotence keeps order across retries only with at most 5 requests in flight (as in Kafka).
            let limit = idempotent ? min(5, config.maxInFlightPerConnection) : config.maxInFlightPerConnection
            guard inFlightPerNode[node, default: 0] < max(1, limit) else { continue }
            var batches: [ProducerBatch] = []
            var bytes = 0
            shared.withLock { s in
                for tp in tps {
                    guard bytes < config.maxRequestSize else { break }
                    // A retry waits until nothing else of its partition is in flight, so order holds.
                    if idempotent, let f = s.accumulator.peekFirst(tp), f.attempts > 0, idem.inFlightCount(tp) > 0 { continue }
                    guard let b = s.accumulator.drainFirst(tp, nowMs: now) else { continue }
                    bytes += b.builder.estimatedBatchSize
                    batches.append(b)
                }
            }
            if !batches.isEmpty { sendProduce(node: node, batches: batches) }
        }
        if needMetadata && !metadataRefreshInFlight {
            metadataRefreshInFlight = true
            cluster.refreshMetadataOnLoop(topics: []) { [self] _ in
                metadataRefreshInFlight = false
                cluster.schedule(afterMs: config.client.retryBackoffMs) { [self] in runSender() }
            }
        }
        if let nextMs, timerAtMs == nil || nextMs < timerAtMs! {
            timerAtMs = nextMs
            cluster.schedule(afterMs: Int(nextMs > now ? nextMs - now : 0)) { [self] in
                if timerAtMs == nextMs { timerAtMs = nil }
                runSender()
            }
        }
    }

    private func initProducerId() {
        guard !producerIdInFlight else { return }
        producerIdInFlight = true
        cluster.sendOnLoop(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1), to: .any) { [self] r in
            producerIdInFlight = false
            switch r {
            case .success(let resp) where !resp.errorCode.isError:
                idem.reset(producerId: resp.producerId, epoch: resp.producerEpoch)
                shared.withLock { $0.accumulator.resetSequences() }
                runSender()
            case .failure(.broker(.unsupportedVersion, _)):
                // A broker without InitProducerId: carry on without idempotence.
                idempotent = false
                runSender()
            case .success(let resp) where resp.errorCode.isRetriable:
                cluster.schedule(afterMs: config.client.retryBackoffMs) { [self] in runSender() }
            case .failure(let e) where e.isRetriable:
                cluster.schedule(afterMs: config.client.retryBackoffMs) { [self] in runSender() }
            case .success(let resp):
                failEverything(.broker(resp.errorCode, "InitProducerId"))
            case .failure(let e):
                failEverything(e)
            }
        }
    }

    /// initTransactions() on the loop thread: sequences restart with the new id/epoch.
    func adoptProducerId(_ id: Int64, epoch: Int16) {
        idem.reset(producerId: id, epoch: epoch)
        shared.withLock { $0.accumulator.resetSequences() }
        runSender()
    }

    private func failEverything(_ e: KafkaError) {
        fatal.withLock { $0 = e }
        let all = shared.withLock { $0.accumulator.abortAll() }
        for b in all { complete(b, .failure(e)) }
    }

    private func sendProduce(node: Int32, batches: [ProducerBatch]) {
        var batches = batches
        for i in batches.indices where batches[i].encoded == nil {
            var seq: Int32 = -1
            if idempotent {
                seq = batches[i].baseSequence ?? idem.assign(batches[i].tp, count: batches[i].recordCount)
                batches[i].baseSequence = seq
            }
            do {
                batches[i].encoded = try batches[i].builder.build(
                    producerId: idempotent ? idem.producerId : -1, producerEpoch: idempotent ? idem.producerEpoch : -1,
                    baseSequence: seq, compression: config.compression, transactional: txn != nil)
            } catch {
                complete(batches[i], .failure(.invalidArgument("cannot build batch: \(error)")))
                batches[i].encoded = []
            }
        }
        batches.removeAll { $0.encoded?.isEmpty ?? true }
        guard !batches.isEmpty else { return }
        if idempotent { for b in batches { idem.sent(b.tp, base: b.baseSequence ?? -1) } }
        var topics: [String: [ProduceRequest.PartitionProduceData]] = [:]
        for b in batches { topics[b.tp.topic, default: []].append(.init(index: b.tp.partition, records: b.encoded.map { $0[...] } ?? nil)) }
        let req = ProduceRequest(transactionalId: config.transactionalId, acks: config.acks, timeoutMs: Int32(config.client.requestTimeoutMs),
                                 topicData: topics.sorted { $0.key < $1.key }.map { .init(name: $0.key, partitionData: $0.value) })
        inFlightPerNode[node, default: 0] += 1
        if config.acks == 0 {
            cluster.sendOneWayOnLoop(req, to: node) { [self] err in
                inFlightPerNode[node, default: 1] -= 1
                for b in batches { handle(b, err.map { .failure($0) } ?? .success((.none, -1, -1, ""))) }
                runSender()
            }
            return
        }
        cluster.sendOnLoop(req, to: .node(node)) { [self] r in
            inFlightPerNode[node, default: 1] -= 1
            switch r {
            case .failure(let e):
                for b in batches { handle(b, .failure(e)) }
            case .success(let resp):
                var answers: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
                for t in resp.responses { for p in t.partitionResponses { answers[TopicPartition(t.name, p.index)] = p } }
                for b in batches {
                    guard let a = answers[b.tp] else {
                        handle(b, .failure(.protocolViolation("no answer for \(b.tp)")))
                        continue
                    }
                    let msg = a.errorMessage.map { ": \($0)" } ?? ""
                    handle(b, .success((a.errorCode, a.baseOffset, a.logAppendTimeMs, msg)))
                }
            }
            runSender()
        }
    }

    private func handle(_ b: ProducerBatch, _ r: Result<(ErrorCode, Int64, Int64, String), KafkaError>) {
        let now = MonotonicClock.millis()
        if idempotent, let s = b.baseSequence { idem.answered(b.tp, base: s) }
        var error: KafkaError
        switch r {
        case .success(let (code, base, appendTime, _)) where code == .none || code == .duplicateSequenceNumber:
            let dup = code == .duplicateSequenceNumber
            complete(b, .success((dup ? -1 : base, appendTime)))
            return
        case .success(let (code, _, _, msg)):
            error = .broker(code, "\(b.tp)\(msg)")
            if code.invalidatesMetadata { cluster.refreshMetadataOnLoop(topics: []) { _ in } }
            if txn != nil, TransactionManager.classify(code) == .fatal {
                // Fenced: another producer owns the transactional.id. No new id here (that would
                // un-fence a zombie); every later call throws.
                noteTransactionFailure(error)
                failEverything(error)
                complete(b, .failure(error))
                return
            }
            if idempotent && txn == nil && (code == .outOfOrderSequenceNumber || code.rawValue == 59 || code == .invalidProducerEpoch) {
                // The broker lost our sequence state: start over with a new producer id.
                idem.reset(producerId: -1, epoch: -1)
                shared.withLock { $0.accumulator.resetSequences() }
                if code == .outOfOrderSequenceNumber && b.attempts == 0 { error = .broker(code, "\(b.tp)") }
            }
        case .failure(let e):
            error = e
            if e.isRetriable { cluster.refreshMetadataOnLoop(topics: []) { _ in } }
        }
        let retriable = error.isRetriable || error == .broker(.outOfOrderSequenceNumber, "\(b.tp)")
        if retriable, b.attempts < config.retries, now < b.createdAtMs + UInt64(config.deliveryTimeoutMs) {
            var again = b
            if !idempotent || !idem.hasProducerId { again.encoded = nil; again.baseSequence = nil }
            shared.withLock { $0.accumulator.reenqueue(again, retryAtMs: now + UInt64(config.client.retryBackoffMs)) }
            return
        }
        if txn != nil {
            noteTransactionFailure(error)
            if b.baseSequence != nil { sequenceGap.store(true, ordering: .relaxed) }
        }
        complete(b, .failure(error))
    }

    func complete(_ b: ProducerBatch, _ r: Result<(Int64, Int64), KafkaError>) {
        shared.withLock { $0.accumulator.release(b) }
        for (i, cb) in b.callbacks.enumerated() {
            guard let cb else { continue }
            switch r {
            case .success(let (base, appendTime)):
                cb(.success(RecordMetadata(topic: b.tp.topic, partition: b.tp.partition,
                                           offset: base < 0 ? -1 : base + Int64(i),
                                           timestamp: appendTime >= 0 ? appendTime : b.timestamps[i])))
            case .failure(let e):
                cb(.failure(e))
            }
        }
        incomplete.subtract(b.recordCount, ordering: .relaxed)
        cond.lock()
        cond.broadcast()
        cond.unlock()
    }
}
