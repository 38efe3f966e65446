package app

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"

	"github.com/ordo-platform/ordo/services/notify"
)

// Message is one email, ready for the mail server.
type Message struct {
	// ID is the Message-ID header without angle brackets. It is derived from
	// the notification id, so every attempt for one notification carries the
	// same id and a Mailbox can recognise an email that was already accepted.
	ID      string
	From    string
	To      string
	Subject string
	Body    string
	// Headers are extra headers (X-Ordo-*), in order.
	Headers [][2]string
}

// Mailer hands a message to a mail server. A nil error means the server
// accepted the message (250 after DATA).
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Mailbox looks into the mail server for a message already accepted. It is
// optional: with one, a notification whose earlier attempt may have reached
// the server is not sent twice. Mailpit's API is one (in development).
type Mailbox interface {
	Contains(ctx context.Context, messageID string) (bool, error)
}

// messageIDSpace namespaces the derived Message-IDs.
var messageIDSpace = es.DerivedUUID(es.UUID{}, "ordo.notify.message-id")

// MessageID returns the Message-ID (without brackets) of the email of
// notification id: stable across attempts, processes and restarts.
func MessageID(notificationID, domain string) string {
	return es.DerivedUUID(messageIDSpace, notificationID).String() + "@" + domain
}

// compose writes the email of n.
func compose(n notify.Notification, from, domain string) Message {
	subject, body := wording(n)
	return Message{
		ID:      MessageID(n.ID, domain),
		From:    from,
		To:      n.To,
		Subject: subject,
		Body:    body,
		Headers: [][2]string{{"X-Ordo-Notification", n.ID}, {"X-Ordo-Order", n.OrderID}, {"X-Ordo-Kind", string(n.Kind)}},
	}
}

func wording(n notify.Notification) (subject, body string) {
	greeting := "Hello " + n.CustomerID + ",\r\n\r\n"
	sign := "\r\n\r\nThank you for shopping with ordo.\r\n"
	switch n.Kind {
	case notify.KindOrderConfirmed:
		return "Your order " + n.OrderID + " is confirmed",
			greeting + "your order " + n.OrderID + " is confirmed: the items are reserved and the payment was captured." + sign
	case notify.KindOrderCancelled:
		return "Your order " + n.OrderID + " was cancelled",
			greeting + "your order " + n.OrderID + " was cancelled. Nothing was charged, or the charge is refunded." + sign
	default:
		return "Your payment for order " + n.OrderID + " was refunded",
			greeting + "the payment for your order " + n.OrderID + " was refunded to you." + sign
	}
}

// Bytes renders m as an RFC 5322 message with CRLF line ends.
func (m Message) Bytes(now time.Time) []byte {
	var b strings.Builder
	header := func(k, v string) { b.WriteString(k + ": " + oneLine(v) + "\r\n") }
	header("From", m.From)
	header("To", m.To)
	header("Subject", m.Subject)
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+m.ID+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	for _, h := range m.Headers {
		header(h[0], h[1])
	}
	b.WriteString("\r\n")
	b.WriteString(m.Body)
	return []byte(b.String())
}

// oneLine keeps a header value on one line: ids come from other services
// and must not be able to inject headers.
func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// SMTP sends mail over plain SMTP (no auth, no TLS: a local relay or Mailpit).
type SMTP struct {
	Addr string
	// Timeout bounds one whole send, dial to QUIT (default 10s).
	Timeout time.Duration
	// HelloName is sent in EHLO (default "notify.ordo").
	HelloName string
}

// Send implements Mailer. Unlike smtp.SendMail it honours ctx and a
// deadline, so a hanging server cannot hold a delivery forever.
func (s SMTP) Send(ctx context.Context, m Message) error {
	timeout, hello := s.Timeout, s.HelloName
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if hello == "" {
		hello = "notify.ordo"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp dial %s: %w", s.Addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("smtp greeting from %s: %w", s.Addr, err)
	}
	defer func() { _ = c.Close() }()
	if err := transact(c, hello, m); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

func transact(c *smtp.Client, hello string, m Message) error {
	if err := c.Hello(hello); err != nil {
		return err
	}
	if err := c.Mail(address(m.From)); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(m.Bytes(time.Now())); err != nil {
		return err
	}
	return w.Close() // returns the server's verdict on the message
}

// address extracts the bare address of "Name <addr>".
func address(s string) string {
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		return s[i+1 : j]
	}
	return s
}

// Reachable dials addr and reads the server's 220 greeting: the readiness
// check of the mail server.
func Reachable(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	buf := make([]byte, 4)
	if _, err := conn.Read(buf); err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if string(buf[:3]) != "220" {
		return fmt.Errorf("greeting %q is not 220", buf)
	}
	_, _ = conn.Write([]byte("QUIT\r\n"))
	return nil
}
