package accountserver

import (
	"context"
	"net/http"
	"net/url"
)

// OTTPurposeUserLogin is the purpose of a one-time token that logs a user in.
const OTTPurposeUserLogin = "user_login"

// LoginTokenFor names the user a one-time login token is for: by UserID or by Login (one of the two).
type LoginTokenFor struct {
	UserID string
	Login  string
}

// ottCreate is the (closed) body of POST /idp/ott.
type ottCreate struct {
	Purpose string `json:"purpose"`
	UserID  string `json:"user_id,omitempty"`
	Login   string `json:"login,omitempty"`
}

// ottAnswer is the answer of POST /idp/ott.
type ottAnswer struct {
	OTT Secret `json:"ott"`
}

// CreateLoginToken asks for a one-time token that logs the user in (POST /idp/ott, purpose
// user_login). The token is a credential: it prints, logs and marshals as "[REDACTED]"; it never
// appears in an error. Not re-sent once it may have reached the server (an unused token expires).
func (c *Client) CreateLoginToken(ctx context.Context, user LoginTokenFor) (Secret, error) {
	op := "create one-time login token for user " + user.UserID
	if user.UserID == "" {
		op = "create one-time login token for login " + user.Login
	}
	if (user.UserID == "") == (user.Login == "") {
		return "", newLocalError(op, kindInvalid, "name the user by exactly one of its id and its login", c.redactor())
	}
	var out ottAnswer
	if err := c.do(ctx, &request{method: http.MethodPost, route: "/idp/ott",
		body: ottCreate{Purpose: OTTPurposeUserLogin, UserID: user.UserID, Login: user.Login}, out: &out, op: op}); err != nil {
		return "", err
	}
	if out.OTT == "" {
		return "", newLocalError(op, kindOther, "the answer holds no token", c.redactor())
	}
	return out.OTT, nil
}

// ExternalLoginURL is the browser link that logs in with a one-time token:
// <server>/api/2/idp/external-login?ott=<url-encoded token>, plus &targetURI=<uri> when given (the
// query form; the document calls the URL fragment form legacy). The link holds the token: print
// it to the user who asked, never log it.
func (c *Client) ExternalLoginURL(ott Secret, targetURI string) string {
	u := *c.base
	u.Path += "/idp/external-login"
	q := url.Values{"ott": {string(ott)}}
	if targetURI != "" {
		q.Set("targetURI", targetURI)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
