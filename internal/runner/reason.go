package runner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/driftload/driftload/internal/runner/h1"
)

// Failure reasons: why a request got no (complete) response. A failed
// request's Response.Reason is one of them, and its built-in samples carry
// the tag reason:<value>.
const (
	ReasonTimeout      = "timeout"            // the request's timeout passed
	ReasonConnRefused  = "connection refused" // nothing listens on the port
	ReasonConnReset    = "connection reset"   // the server reset the connection (or it broke while writing)
	ReasonEOF          = "eof"                // the server closed the connection before the response ended
	ReasonMalformed    = "malformed response" // the server answered, but not with valid HTTP
	ReasonBodyTooLarge = "body too large"     // the body exceeded ClientOptions.MaxBodyBytes
	ReasonTLS          = "tls"                // the TLS handshake or certificate check failed
	ReasonDNS          = "dns"                // the host name did not resolve
	ReasonDial         = "dial"               // connecting failed otherwise (unreachable network, ...)
	ReasonCanceled     = "canceled"           // the run stopped the request
	ReasonOther        = "other"              // anything else
)

// FailureReasons lists every failure reason, in a stable order.
var FailureReasons = []string{
	ReasonTimeout, ReasonConnRefused, ReasonConnReset, ReasonEOF, ReasonMalformed,
	ReasonBodyTooLarge, ReasonTLS, ReasonDNS, ReasonDial, ReasonCanceled, ReasonOther,
}

// failureReason classifies a request's error; answered reports whether any
// byte of a response arrived.
func failureReason(err error, answered bool) string {
	if err == nil {
		return ""
	}
	var (
		malformed *h1.MalformedError
		dnsErr    *net.DNSError
		opErr     *net.OpError
	)
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return ReasonBodyTooLarge
	case errors.Is(err, context.Canceled):
		return ReasonCanceled
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return ReasonTimeout
	case errors.As(err, &malformed):
		return ReasonMalformed
	case errors.As(err, &dnsErr):
		return ReasonDNS
	case isTLSError(err):
		return ReasonTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonConnRefused
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return ReasonConnReset
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isNetHTTPEOF(err):
		return ReasonEOF
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return ReasonDial
	case answered:
		// net/http's errors for a response it cannot parse are of
		// unexported types (badStringError, unsupportedTEError, the chunked
		// reader's): after the network, EOF and timeout classes above,
		// an error once the server answered is one of them.
		return ReasonMalformed
	}
	return ReasonOther
}

func isTLSError(err error) bool {
	var (
		record     tls.RecordHeaderError
		alert      tls.AlertError
		verify     *tls.CertificateVerificationError
		authority  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalid    x509.CertificateInvalidError
		systemRoot x509.SystemRootsError
	)
	if errors.As(err, &record) || errors.As(err, &alert) || errors.As(err, &verify) || errors.As(err, &authority) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &systemRoot) {
		return true
	}
	// crypto/tls reports the alerts it sends itself and the ones it
	// receives (a server refusing the client's certificate, which TLS 1.3
	// says on the first read after the handshake) as a *net.OpError "local
	// error" or "remote error" around an unexported type; net/http
	// replaces the RecordHeaderError of a plain HTTP answer with its own
	// plain error.
	var opErr *net.OpError
	return errors.As(err, &opErr) && (opErr.Op == "local error" || opErr.Op == "remote error") && strings.HasPrefix(opErr.Err.Error(), "tls: ") ||
		strings.HasSuffix(err.Error(), "http: server gave HTTP response to HTTPS client")
}

// isNetHTTPEOF matches net/http's unexported errors for a server that
// closed the connection early.
func isNetHTTPEOF(err error) bool {
	msg := err.Error()
	return strings.HasSuffix(msg, "http: server closed idle connection") ||
		strings.HasSuffix(msg, "http: unexpected EOF reading trailer")
}
