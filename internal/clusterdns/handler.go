package clusterdns

import (
	"log/slog"
	"net"

	"github.com/miekg/dns"
)

// ednsUDPSize is the UDP payload size advertised to EDNS clients: the DNS
// flag day 2020 value, which never fragments.
const ednsUDPSize = 1232

// handler turns table decisions into DNS messages.
type handler struct {
	table *table
	ttl   uint32
	log   *slog.Logger
}

var _ dns.Handler = (*handler)(nil)

func (h *handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := h.respond(req)
	if err := w.WriteMsg(resp); err != nil {
		h.log.Debug("write DNS answer failed", "client", w.RemoteAddr().String(), "error", err)
	}
}

// respond builds the reply to req. Replies are authoritative: for the pods
// that use it this server is the only authority there is, and Go's resolver
// discards a NOERROR reply without records (our NODATA for AAAA) that is
// neither authoritative nor recursive nor carries additional records as a
// lame referral, so a query without EDNS would fail the lookup.
func (h *handler) respond(req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	switch {
	case req.Opcode != dns.OpcodeQuery:
		return resp.SetRcode(req, dns.RcodeNotImplemented)
	case len(req.Question) != 1:
		return resp.SetRcode(req, dns.RcodeFormatError)
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET {
		return resp.SetRcode(req, dns.RcodeRefused)
	}
	ans := h.table.resolve(q.Name, q.Qtype)
	resp.SetRcode(req, ans.rcode)
	resp.Authoritative = true
	if ans.a.IsValid() {
		resp.Answer = []dns.RR{&dns.A{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: h.ttl},
			A:   net.IP(ans.a.AsSlice()),
		}}
	}
	if ans.rcode == dns.RcodeNameError {
		h.log.Debug("DNS name not found", "name", q.Name, "type", dns.TypeToString[q.Qtype])
	}
	if req.IsEdns0() != nil {
		resp.SetEdns0(ednsUDPSize, false)
	}
	return resp
}
