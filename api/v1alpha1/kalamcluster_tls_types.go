package v1alpha1

// TLSSpec serves the data plane's API (HTTP and WebSocket) and its
// PostgreSQL listener over TLS. Once set, TLS is required: the pods have no
// plain-HTTP listener (a plain request gets 400 "Client sent an HTTP
// request to an HTTPS server"), the PostgreSQL listener refuses non-TLS
// connections from other hosts, the probes use HTTPS and the operator's
// own client verifies the server certificate.
//
// The certificate comes either from a Secret of type kubernetes.io/tls
// (tls.crt, tls.key and, optionally, ca.crt: the shape cert-manager
// writes) or from the operator, which then creates a self-signed CA
// (Secret <cluster>-ca) and a server certificate it signs (Secret
// <cluster>-tls) for the cluster's Service DNS names, and renews that
// certificate before it expires. The server re-reads the mounted files when
// they change, so renewing or rotating the Secret needs no restart.
// +kubebuilder:validation:XValidation:rule="has(self.secretName) != (has(self.generate) && self.generate)",message="set exactly one of secretName (a kubernetes.io/tls Secret) and generate: true"
// +kubebuilder:validation:XValidation:rule="!has(self.dnsNames) || (has(self.generate) && self.generate)",message="dnsNames only apply to a generated certificate"
type TLSSpec struct {
	// SecretName is a Secret in the cluster's namespace with tls.crt and
	// tls.key (PEM), and ca.crt when the issuer is not a public CA. The
	// operator uses ca.crt (or, without it, the certificate itself) to
	// verify the data plane.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	SecretName string `json:"secretName,omitempty"`
	// Generate asks the operator for a self-signed CA and a server
	// certificate. Clients trust the CA from the <cluster>-ca Secret
	// (key ca.crt).
	// +optional
	Generate bool `json:"generate,omitempty"`
	// DNSNames are added to a generated certificate besides the Service
	// names (e.g. a load balancer's external name).
	// +kubebuilder:validation:MaxItems=32
	// +optional
	DNSNames []string `json:"dnsNames,omitempty"`
}

// TLS status (KalamCluster).
const (
	// ConditionTLSReady (KalamCluster with spec.tls) is True when the
	// serving certificate's Secret exists and holds a valid pair; its
	// message names the certificate's expiry.
	ConditionTLSReady = "TLSReady"
	// ReasonCertificateValid: the Secret holds a usable certificate.
	ReasonCertificateValid = "CertificateValid"
	// ReasonCertificateExpiringSoon: the certificate is valid but expires
	// within 14 days (TLSReady stays True; a Warning event is recorded).
	ReasonCertificateExpiringSoon = "CertificateExpiringSoon"
	// ReasonTLSSecretMissing: spec.tls.secretName does not exist (yet:
	// cert-manager may still be issuing it).
	ReasonTLSSecretMissing = "TLSSecretMissing"
	// ReasonTLSSecretInvalid: the Secret lacks tls.crt/tls.key, they do
	// not parse or match, ca.crt does not verify the certificate, or the
	// certificate has expired.
	ReasonTLSSecretInvalid = "TLSSecretInvalid"
)
