// Package e2e drives the whole system through the podid command line as a
// user would: it builds the podid binary, runs `podid up --detach`, asks for
// tokens with `podid token`, reads the demo secret from the embedded Key
// Vault with a plain HTTPS request, and checks that `podid down` and failed
// starts leave no process behind. The node agents listen on fixed loopback
// addresses (127.32.0.x:2579), so these tests run one at a time and not
// while another `podid up` runs on this machine.
package e2e
