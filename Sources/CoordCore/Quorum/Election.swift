import Protocol

/// Fast-leader-election state while LOOKING: votes converge on the best credentials
/// (currentEpoch, lastZxid, id); a quorum agreeing plus a short settle window decides.
struct ElectionState: Sendable {
    var proposal: Vote
    /// Votes of this round, including our own.
    var votes: [UInt64: Vote]
    /// What servers already following or leading report.
    var settled: [UInt64: (vote: Vote, state: PeerState)] = [:]
    var settleAt: UInt64?
    var lastBroadcast: UInt64
}

extension QuorumPeer {
    var ownVote: Vote { Vote(leader: id, zxid: log.lastZxid, epoch: epochs.currentEpoch) }

    mutating func startElection(_ why: String) {
        lastElectionReason = why
        leader = nil
        follower = nil
        decidedVote = nil
        electionRound += 1
        let vote = ownVote
        election = ElectionState(proposal: vote, votes: [id: vote], lastBroadcast: now)
        setStatus(.looking, serving: false)
        // A removed server stays out until an operator restarts it into a configuration.
        if removed { return }
        if config.voters.count == 1 && !config.isObserver && pendingMemberships.isEmpty {
            decide(vote)
            return
        }
        broadcastNotification()
    }

    func notification() -> ElectionNotification {
        if let e = election {
            return ElectionNotification(round: electionRound, state: .looking, vote: e.proposal, config: electionConfig)
        }
        let state: PeerState = leader != nil ? .leading : .following
        return ElectionNotification(round: electionRound, state: state, vote: decidedVote ?? ownVote, config: electionConfig)
    }

    mutating func broadcastNotification() {
        let n = notification()
        for peer in others { send(peer, .election(n)) }
        election?.lastBroadcast = now
    }

    mutating func handleNotification(from sender: UInt64, _ n: ElectionNotification) {
        if removed { return }
        if config.isObserver { return observerNotification(from: sender, n) }
        if config.isObserver(sender) {
            // An observer's vote never counts; it asks to learn the leader, so answer it. One
            // that reports looking while our learner has left us.
            if n.state == .looking, leader?.learners[sender] != nil { dropLearner(sender) }
            if n.state == .looking { send(sender, .election(notification())) }
            return
        }
        if leader != nil, leader?.learners[sender] != nil, n.state == .looking || n.vote.leader != id {
            // Sent after its FOLLOWERINFO (links are FIFO): it has left us, so its session is dead
            // even though the shared link is up. Without this a leader paused past syncLimit would
            // keep leading on resume until its own silence limit ran out.
            dropLearner(sender)
            if leader?.phase == .active, !isQuorum(syncedVoters()) {
                startElection("followers left us (server \(sender) reports \(n.state) for \(n.vote.leader))")
                // Fall through: answer it as a looking server does.
            }
        }
        if election == nil {
            // Our serving leader went back to looking: no point waiting for the heartbeat limit.
            if n.state == .looking, let f = follower, f.leaderId == sender, f.stage == .serving {
                startElection("leader went back to looking")
            } else if n.state == .leading, let f = follower, f.leaderId == sender {
                reconnectIfUnanswered()
                return
            } else {
                if n.state == .looking { send(sender, .election(notification())) }
                return
            }
        }
        guard var e = election else { return }
        if n.state == .looking {
            if n.round > electionRound {
                electionRound = n.round
                let mine = ownVote
                e.proposal = n.vote.isBetter(than: mine) ? n.vote : mine
                e.votes = [id: e.proposal]
                e.settleAt = nil
                election = e
                broadcastNotification()
            } else if n.round < electionRound {
                send(sender, .election(notification()))
                return
            } else if n.vote.isBetter(than: e.proposal) {
                e.proposal = n.vote
                e.votes[id] = n.vote
                election = e
                broadcastNotification()
            }
            election?.votes[sender] = n.vote
            checkVotes()
            return
        }
        // The sender already follows or leads: join it once a quorum reports the same leader and
        // that leader says it leads.
        e.settled[sender] = (n.vote, n.state)
        if n.round == electionRound { e.votes[sender] = n.vote }
        election = e
        // Match on the leader only: a follower may have joined it under an older vote.
        let target = n.vote.leader
        let backers = Set(e.settled.filter { $0.value.vote.leader == target }.keys)
        if isQuorum(backers), let lead = e.settled[target], lead.state == .leading {
            decide(lead.vote)
            return
        }
        checkVotes()
    }

    /// Decides at once when every voter agrees; otherwise waits `settleTicks` after a quorum.
    mutating func checkVotes() {
        guard var e = election else { return }
        let agreeing = Set(e.votes.filter { $0.value == e.proposal }.keys)
        let agree = agreeing.intersection(config.voters).count
        let enough = isQuorum(agreeing)
        if enough && (agree == config.voters.count || config.settleTicks == 0) {
            decide(e.proposal)
            return
        }
        if enough {
            if e.settleAt == nil { e.settleAt = now + UInt64(config.settleTicks) }
        } else {
            e.settleAt = nil
        }
        election = e
    }

    /// An observer never votes: it follows the leader a quorum of voters report, once that leader
    /// itself says it leads (ZooKeeper's observers learn the leader the same way).
    mutating func observerNotification(from sender: UInt64, _ n: ElectionNotification) {
        if election == nil {
            if n.state == .looking, let f = follower, f.leaderId == sender, f.stage == .serving {
                startElection("leader went back to looking")
            } else if n.state == .leading, let f = follower, f.leaderId == sender {
                reconnectIfUnanswered()
            }
            return
        }
        guard var e = election else { return }
        if n.state == .looking {
            e.settled[sender] = nil
            election = e
            return
        }
        e.settled[sender] = (n.vote, n.state)
        election = e
        let target = n.vote.leader
        let backers = e.settled.values.filter { $0.vote.leader == target }.count
        if backers >= quorum, let lead = e.settled[target], lead.state == .leading {
            election = nil
            decidedVote = lead.vote
            becomeFollower(of: target)
        }
    }

    mutating func electionTick() {
        guard let e = election, !removed else { return }
        if config.isObserver {
            if now >= e.lastBroadcast + UInt64(config.electionResend) { broadcastNotification() }
            return
        }
        if let at = e.settleAt, now >= at {
            decide(e.proposal)
            return
        }
        if now >= e.lastBroadcast + UInt64(config.electionResend) {
            broadcastNotification()
        }
    }

    mutating func decide(_ vote: Vote) {
        election = nil
        decidedVote = vote
        if vote.leader == id {
            becomeLeader()
        } else {
            becomeFollower(of: vote.leader)
        }
        // Tell everyone, so that servers still looking can join without waiting for a resend.
        let n = notification()
        for peer in others { send(peer, .election(n)) }
    }
}
