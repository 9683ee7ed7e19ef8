import Testing
@testable import BrokerCore

@Suite struct ControllerRequestGateTests {
    typealias Claim = ControllerRequestGate.Claim
    typealias View = ControllerRequestGate.CoordView

    /// A gate that confirmed controller 2 in epoch 7, registered with broker epoch 100.
    func confirmed() -> ControllerRequestGate {
        var g = ControllerRequestGate()
        g.registered(brokerEpoch: 100)
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100)) == .confirm)
        #expect(g.decide(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100),
                         with: View(controllerEpoch: 7, controllerId: 2, brokerEpoch: 100), generation: g.generation) == .noError)
        return g
    }

    @Test func confirmedControllerIsAdmittedWithoutAskingCoordd() {
        let g = confirmed()
        #expect(g.controllerConfirmed && g.controllerEpoch == 7 && g.controllerId == 2)
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100)) == .admit)
    }

    @Test func lowerEpochIsStaleAndAnotherControllerInTheSameEpochIsRefused() {
        let g = confirmed()
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 6, brokerEpoch: 100)) == .refuse(.staleControllerEpoch))
        #expect(g.check(Claim(controllerId: 3, controllerEpoch: 7, brokerEpoch: 100)) == .refuse(.staleControllerEpoch))
        #expect(g.check(Claim(controllerId: -1, controllerEpoch: 7, brokerEpoch: 100)) == .refuse(.staleControllerEpoch))
    }

    @Test func forgedHigherEpochIsRefusedAndNeverCached() {
        var g = confirmed()
        let forged = Claim(controllerId: 2, controllerEpoch: Int32.max, brokerEpoch: 100)
        #expect(g.check(forged) == .confirm)
        #expect(g.decide(forged, with: View(controllerEpoch: 7, controllerId: 2, brokerEpoch: 100), generation: g.generation)
                == .staleControllerEpoch)
        #expect(g.controllerEpoch == 7)
        // The real controller still gets through afterwards, without a round trip.
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100)) == .admit)
    }

    @Test func higherEpochIsAdoptedOnceCoorddConfirmsIt() {
        var g = confirmed()
        let next = Claim(controllerId: 3, controllerEpoch: 8, brokerEpoch: 100)
        #expect(g.check(next) == .confirm)
        #expect(g.decide(next, with: View(controllerEpoch: 8, controllerId: 3, brokerEpoch: 100), generation: g.generation) == .noError)
        #expect(g.check(next) == .admit)
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100)) == .refuse(.staleControllerEpoch))
    }

    @Test func impostorNamingTheCurrentEpochButNotTheHolderIsRefused() {
        var g = ControllerRequestGate()
        g.registered(brokerEpoch: 100)
        let c = Claim(controllerId: 9, controllerEpoch: 7, brokerEpoch: 100)
        #expect(g.check(c) == .confirm)
        #expect(g.decide(c, with: View(controllerEpoch: 7, controllerId: 2, brokerEpoch: 100), generation: g.generation) == .staleControllerEpoch)
        // What coordd said is cached: the real controller is admitted at once.
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100)) == .admit)
        // Nobody holds /controller: nothing is admitted, not even a claim of controller -1.
        var empty = ControllerRequestGate()
        let none = Claim(controllerId: -1, controllerEpoch: 7, brokerEpoch: 100)
        #expect(empty.decide(none, with: View(controllerEpoch: 7, controllerId: -1, brokerEpoch: 100), generation: 0) == .staleControllerEpoch)
    }

    @Test func brokerEpochMustMatchTheCurrentRegistration() {
        var g = confirmed()
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 99)) == .refuse(.staleBrokerEpoch))
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: -1)) == .refuse(.staleBrokerEpoch))
        // A newer one may be our re-registration that the controller saw first: coordd decides.
        let newer = Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 150)
        #expect(g.check(newer) == .confirm)
        #expect(g.decide(newer, with: View(controllerEpoch: 7, controllerId: 2, brokerEpoch: 100), generation: g.generation) == .staleBrokerEpoch)
        #expect(g.brokerEpoch == 100)
        // Another session holds our id (view has no broker epoch of ours): refused.
        #expect(g.decide(newer, with: View(controllerEpoch: 7, controllerId: 2, brokerEpoch: nil), generation: g.generation) == .staleBrokerEpoch)
    }

    @Test func sessionLossFencesTheOldRegistrationAndLearnsTheNewOne() {
        var g = confirmed()
        g.sessionLost()
        #expect(g.brokerEpoch == -1 && !g.controllerConfirmed)
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100)) == .confirm)
        #expect(g.decide(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100),
                         with: View(controllerEpoch: 7, controllerId: 2, brokerEpoch: 200), generation: g.generation) == .staleBrokerEpoch)
        #expect(g.brokerEpoch == 200)
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 200)) == .admit)
        #expect(g.check(Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100)) == .refuse(.staleBrokerEpoch))
    }

    @Test func controllerChangeForcesAFreshConfirmationAndOldReadsDoNotConfirm() {
        var g = confirmed()
        let before = g.generation
        g.controllerChanged()
        let c = Claim(controllerId: 2, controllerEpoch: 7, brokerEpoch: 100)
        #expect(g.check(c) == .confirm)
        // A read that started before the change still decides this request, but does not confirm.
        #expect(g.decide(c, with: View(controllerEpoch: 7, controllerId: 2, brokerEpoch: 100), generation: before) == .noError)
        #expect(g.check(c) == .confirm)
        #expect(g.decide(c, with: View(controllerEpoch: 7, controllerId: 2, brokerEpoch: 100), generation: g.generation) == .noError)
        #expect(g.check(c) == .admit)
    }

    @Test func aStaleViewNeverMovesTheCacheBack() {
        var g = confirmed()
        g.learn(View(controllerEpoch: 9, controllerId: 3, brokerEpoch: 100), generation: g.generation)
        g.learn(View(controllerEpoch: 7, controllerId: 2, brokerEpoch: 100), generation: g.generation)
        #expect(g.controllerEpoch == 9 && g.controllerId == 3)
    }
}

@Suite struct BrokerEpochControllerTests {
    @Test func reregistrationWithANewBrokerEpochResendsStateUnderIt() throws {
        var c = freshController()
        _ = c.handle(.topicsChanged(["t": TopicAssignment(partitions: [0: [1, 2], 1: [2, 3]])]))
        let leaders = c.states.mapValues { $0.leaderAndIsr }
        var two = reg(2)
        two.epoch = 500
        let fx = c.handle(.brokersChanged([reg(1), two, reg(3)]))
        #expect(c.liveBrokers[2]?.epoch == 500)
        // Same process, new session: no leader moves, but broker 2 gets all its partitions and metadata.
        #expect(c.states.mapValues { $0.leaderAndIsr } == leaders)
        #expect(fx.leaderAndIsr(to: 2)?.partitions.map(\.topicPartition).sorted() == [TopicPartition("t", 0), TopicPartition("t", 1)])
        #expect(fx.updateMetadata(to: 2)?.partitions.count == 2)
        // Unchanged epoch: nothing to send.
        #expect(c.handle(.brokersChanged([reg(1), two, reg(3)])).leaderAndIsr(to: 2) == nil)
        #expect(two.sameBroker(as: reg(2)) && !reg(2, ts: 9).sameBroker(as: two))
    }
}
