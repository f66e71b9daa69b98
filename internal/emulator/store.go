package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
)

// store is everything the emulator remembers. It is guarded by Server.mu and is
// persisted as one JSON document (SaveState/LoadState), so every field is exported.
//
// Rules for code that touches it:
//   - hold s.mu for the whole request (read, validate, write), so each request is atomic;
//   - never hand out pointers from the maps to callers outside the lock: copy;
//   - bump versions with s.nextVersion() and times with s.timestamp().
type store struct {
	Tenants map[string]*Tenant       `json:"tenants"`
	Users   map[string]*User         `json:"users"`
	Clients map[string]*clientRecord `json:"clients"`
	Tokens  map[string]*tokenRecord  `json:"tokens"`
	// Passwords are kept in the clear: the emulator lets tests read them back (Server.Password).
	Passwords        map[string]string   `json:"passwords"`
	ActivationEmails map[string]int      `json:"activation_emails"`
	Pricing          map[string]*Pricing `json:"pricing"`
	LastVersion      int64               `json:"last_version"`
	// Seq orders objects by creation even when the clock stands still (tests freeze it), so
	// listings and cursors follow creation order like the vendor's.
	Seq     map[string]int64 `json:"seq"`
	LastSeq int64            `json:"last_seq"`
	// TenantNumbers holds each tenant's numeric id, the legacy integer the official document uses
	// for tenant_id in usages (the UUID goes in tenant_uuid). Numbers start at 1 and never change.
	TenantNumbers    map[string]int64 `json:"tenant_numbers"`
	LastTenantNumber int64            `json:"last_tenant_number"`
	Bootstrap        Bootstrap        `json:"bootstrap"`
	// Ext belongs to the catalog/offering/report code (hooks.go). Its zero value must be usable,
	// because LoadState and New start from it.
	Ext stateExt `json:"ext"`
}

type clientRecord struct {
	APIClient
	// SecretHash is the hex SHA-256 of the secret: the secret itself is shown once, at creation.
	SecretHash string `json:"secret_hash"`
}

type tokenRecord struct {
	ClientID  string    `json:"client_id"`
	TenantID  string    `json:"tenant_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Bootstrap tells how to reach the emulator's seeded API client.
type Bootstrap struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	TenantID     string `json:"tenant_id"`
	TenantName   string `json:"tenant_name"`
	RootTenantID string `json:"root_tenant_id"`
}

func newStore() *store {
	return &store{
		Tenants:          map[string]*Tenant{},
		Users:            map[string]*User{},
		Clients:          map[string]*clientRecord{},
		Tokens:           map[string]*tokenRecord{},
		Passwords:        map[string]string{},
		ActivationEmails: map[string]int{},
		Pricing:          map[string]*Pricing{},
		Seq:              map[string]int64{},
		TenantNumbers:    map[string]int64{},
	}
}

// fillMaps makes a store decoded from an older or partial document safe to write to.
func (st *store) fillMaps() {
	if st.Tenants == nil {
		st.Tenants = map[string]*Tenant{}
	}
	if st.Users == nil {
		st.Users = map[string]*User{}
	}
	if st.Clients == nil {
		st.Clients = map[string]*clientRecord{}
	}
	if st.Tokens == nil {
		st.Tokens = map[string]*tokenRecord{}
	}
	if st.Passwords == nil {
		st.Passwords = map[string]string{}
	}
	if st.ActivationEmails == nil {
		st.ActivationEmails = map[string]int{}
	}
	if st.Pricing == nil {
		st.Pricing = map[string]*Pricing{}
	}
	if st.Seq == nil {
		st.Seq = map[string]int64{}
	}
	if st.TenantNumbers == nil {
		st.TenantNumbers = map[string]int64{}
	}
}

// assignSeq records that the object id was created now. Call with s.mu held.
func (s *Server) assignSeq(id string) {
	s.st.LastSeq++
	s.st.Seq[id] = s.st.LastSeq
}

// tenantNumber is a tenant's numeric id, given now to a tenant from a state file that predates
// numeric ids. Call with s.mu held.
func (s *Server) tenantNumber(id string) int64 {
	if n, ok := s.st.TenantNumbers[id]; ok {
		return n
	}
	s.st.LastTenantNumber++
	s.st.TenantNumbers[id] = s.st.LastTenantNumber
	return s.st.LastTenantNumber
}

// createdKey sorts objects by creation: time, then creation sequence, then id. Call with s.mu held.
func (s *Server) createdKey(createdAt, id string) string {
	return fmt.Sprintf("%s|%020d|%s", createdAt, s.st.Seq[id], id)
}

// newID makes the lowercase UUIDs the vendor uses for every object.
func newID() string { return uuid.NewString() }

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// nextVersion hands out the next object version: millisecond-like like the vendor's, and strictly growing
// even when the clock stands still or goes back. Call with s.mu held.
func (s *Server) nextVersion() int64 {
	v := s.now().UnixMilli()
	if v <= s.st.LastVersion {
		v = s.st.LastVersion + 1
	}
	s.st.LastVersion = v
	return v
}

// timeLayout is RFC 3339 with microseconds in UTC, the vendor's usual precision.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// timestamp is the current time of the emulator's clock in the wire format.
func (s *Server) timestamp() string { return formatTime(s.now()) }

// parseTime accepts the timestamp forms the vendor's documents show: RFC 3339 with or without
// fractional seconds, with or without a zone (UTC then), and a bare date.
func parseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", v)
}

func ptr[T any](v T) *T { return &v }

// setIf copies an optional request field onto dst; an absent (nil) field keeps dst.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// persisted is the document SaveState writes; the format number lets a future change refuse old files.
type persisted struct {
	Format int    `json:"format"`
	Store  *store `json:"store"`
}

const stateFormat = 1

// SaveState writes the whole store as JSON.
func (s *Server) SaveState(w io.Writer) error {
	s.mu.Lock()
	data, err := json.MarshalIndent(persisted{Format: stateFormat, Store: s.st}, "", "  ")
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// LoadState replaces the store with one written by SaveState. Credentials given explicitly in
// Options win over the saved bootstrap client, so a restart with the same flags keeps working.
func (s *Server) LoadState(r io.Reader) error {
	var doc persisted
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("decoding state: %w", err)
	}
	if doc.Format != stateFormat {
		return fmt.Errorf("state format %d is not supported (want %d)", doc.Format, stateFormat)
	}
	if doc.Store == nil {
		return fmt.Errorf("state has no store")
	}
	st := doc.Store
	st.fillMaps()
	if _, ok := st.Tenants[st.Bootstrap.TenantID]; !ok {
		return fmt.Errorf("state's bootstrap tenant %q is missing", st.Bootstrap.TenantID)
	}
	if _, ok := st.Tenants[st.Bootstrap.RootTenantID]; !ok {
		return fmt.Errorf("state's root tenant %q is missing", st.Bootstrap.RootTenantID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = st
	if s.explicitClientID || s.explicitSecret {
		id, secret := st.Bootstrap.ClientID, st.Bootstrap.ClientSecret
		if s.explicitClientID {
			id = s.opts.ClientID
		}
		if s.explicitSecret {
			secret = s.opts.ClientSecret
		}
		s.ensureBootstrapClient(id, secret)
	}
	return nil
}

// ensureBootstrapClient makes (or repairs) the seeded API client so that id/secret can get tokens
// in the bootstrap tenant. Call with s.mu held.
func (s *Server) ensureBootstrapClient(id, secret string) {
	b := &s.st.Bootstrap
	c, ok := s.st.Clients[id]
	if !ok {
		c = &clientRecord{APIClient: APIClient{
			ClientID:                id,
			Type:                    "api_client",
			Data:                    map[string]any{"client_name": "tenant-operator bootstrap client"},
			TokenEndpointAuthMethod: "client_secret_basic",
			RedirectURIs:            []string{},
			CreatedAt:               s.timestamp(),
		}}
		s.st.Clients[id] = c
		s.assignSeq(id)
	}
	c.TenantID = b.TenantID
	c.Status = "enabled"
	c.DeletedAt = nil
	c.SecretHash = hashSecret(secret)
	b.ClientID = id
	b.ClientSecret = secret
}

// redactedState is the store as GET /_emulator/state shows it: passwords, the bootstrap secret and
// registration token values never leave the process through the admin API.
func (s *Server) redactedState() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := json.Marshal(persisted{Format: stateFormat, Store: s.st})
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	st := doc["store"].(map[string]any)
	if pw, ok := st["passwords"].(map[string]any); ok {
		for k := range pw {
			pw[k] = "<redacted>"
		}
	}
	if b, ok := st["bootstrap"].(map[string]any); ok {
		b["client_secret"] = "<redacted>"
	}
	if x, ok := st["ext"].(map[string]any); ok {
		if tokens, ok := x["registration_tokens"].(map[string]any); ok {
			for _, t := range tokens {
				if t, ok := t.(map[string]any); ok {
					t["token"] = "<redacted>"
				}
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}
