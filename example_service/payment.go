package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// The payment gateway stands in for a downstream service: checkout hands each
// authorization to a pool of worker goroutines over a channel and waits for the reply,
// as it would wait on an RPC client with a connection pool. A worker's cost is CPU
// (HMAC rounds), not a timer, so the wait is stable and not at the mercy of timer
// granularity.

var (
	errDeclined      = errors.New("payment declined")
	errGatewayClosed = errors.New("payment gateway closed")
)

// declinedToken is the payment token the gateway always declines (for tests).
const declinedToken = "tok_declined"

// authRounds is the number of HMAC rounds a worker spends per authorization.
const authRounds = 200

var merchantKey = []byte("perfgate-example-merchant-key")

type authRequest struct {
	customer string
	amount   int64
	token    string
	reply    chan authResult // buffered: a worker never blocks on a caller that gave up
}

type authResult struct {
	code string
	err  error
}

type paymentGateway struct {
	reqs      chan authRequest
	quit      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

func newPaymentGateway(workers int) *paymentGateway {
	g := &paymentGateway{reqs: make(chan authRequest), quit: make(chan struct{})}
	g.wg.Add(workers)
	for i := 0; i < workers; i++ {
		go g.work()
	}
	return g
}

func (g *paymentGateway) work() {
	defer g.wg.Done()
	for {
		select {
		case req := <-g.reqs:
			req.reply <- process(req)
		case <-g.quit:
			return
		}
	}
}

// process authorizes one payment: an HMAC chain over the request yields the auth code.
func process(req authRequest) authResult {
	if req.token == declinedToken {
		return authResult{err: errDeclined}
	}
	mac := hmac.New(sha256.New, merchantKey)
	var sum [sha256.Size]byte
	var amount [8]byte
	binary.LittleEndian.PutUint64(amount[:], uint64(req.amount))
	customer, token := []byte(req.customer), []byte(req.token)
	for r := 0; r < authRounds; r++ {
		mac.Reset()
		mac.Write(sum[:])
		mac.Write(customer)
		mac.Write(amount[:])
		mac.Write(token)
		mac.Sum(sum[:0])
	}
	return authResult{code: fmt.Sprintf("AUTH%08X", binary.BigEndian.Uint32(sum[:4]))}
}

// authorize asks a worker to authorize amount and waits for its answer.
func (g *paymentGateway) authorize(ctx context.Context, customer string, amount int64, token string) (string, error) {
	req := authRequest{customer: customer, amount: amount, token: token, reply: make(chan authResult, 1)}
	select {
	case g.reqs <- req:
	case <-g.quit:
		return "", errGatewayClosed
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case res := <-req.reply:
		return res.code, res.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// close stops the workers and waits for them; later authorizations fail.
func (g *paymentGateway) close() {
	g.closeOnce.Do(func() { close(g.quit) })
	g.wg.Wait()
}
