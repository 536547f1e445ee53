// Package acrprovider is `podid acr-credential-provider`, the kubelet's
// image credential provider for Azure Container Registry: the kubelet
// execs it with a CredentialProviderRequest on stdin and reads ACR
// credentials for the node's kubelet identity from stdout. The work is
// done by package acrcred; this package binds flags, the azure.json
// argument and stdio.
package acrprovider
