// Package world reads the declarative YAML world file that seeds the
// embedded cloud. Its shape (every list optional except tenants):
//
//	tenants:
//	  - id: <GUID>                      # required
//	    name: contoso                   # also accepted as the tenant in AAD URLs
//	    subscriptions:
//	      - id: <GUID>
//	        name: aks                   # usable in "subscription/aks" scopes
//	        resourceGroups:
//	          - name: MC_rg
//	            location: westus2       # default eastus
//	            identities:             # user-assigned managed identities
//	              - name: kubelet
//	                clientId: <GUID>    # optional; derived from the name otherwise
//	                principalId: <GUID> # optional; the object ID RBAC uses
//	                federatedCredentials:
//	                  - {name: fic, issuer: https://..., subject: system:serviceaccount:ns:sa, audiences: [api://AzureADTokenExchange]}
//	            scaleSets:              # VMSS node pools: one IMDS listener per instance
//	              - {name: aks-nodepool1-vmss, capacity: 2, systemAssigned: false, identities: [kubelet]}
//	            virtualMachines:
//	              - {name: jumpbox, systemAssigned: true, identities: []}
//	            vaults:
//	              - name: kv1
//	                mode: rbac          # or accessPolicy
//	                accessPolicies: [{principal: kubelet, secrets: [get, list]}]
//	                secrets: [{name: db-password, value: s3cr3t, contentType: text/plain}]
//	            registries:             # container registries: <name>.azurecr.io
//	              - name: podidacr      # 5-50 letters and digits, global
//	                sku: Premium        # Basic (default), Standard, Premium
//	                roleAssignmentMode: rbac-abac  # or rbac (default)
//	                anonymousPull: false
//	                armTokens: enabled  # or disabled: /oauth2/exchange refuses ARM tokens
//	                publicNetworkAccess: Enabled
//	                networkRules: {defaultAction: Deny, ipRules: [10.0.0.0/8]}
//	                images:             # loaded at start from OCI layouts (path relative to this file)
//	                  - {repository: app/web, tag: v1, layout: images/web, ref: v1}
//	    applications:                   # app registrations + service principals
//	      - name: ci
//	        appId: <GUID>               # optional
//	        objectId: <GUID>            # optional
//	        secrets: [{value: ..., endDate: 2030-01-01T00:00:00Z}]
//	        certificates: [{pem: "-----BEGIN CERTIFICATE-----..."}]
//	        federatedCredentials: [...]
//	    roleAssignments:
//	      - principal: kubelet          # identity or app name, system/<machine>, or object ID
//	        role: AcrPull               # built-in role name or GUID
//	        scope: resourceGroup/MC_rg  # resource ID, or subscription/, resourceGroup/,
//	                                    # identity/, scaleSet/, virtualMachine/, vault/, registry/ + name
//	        condition: "@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'app/web'"
//	    users:                          # people who sign in (device code, password)
//	      - {userPrincipalName: alice@contoso.com, displayName: Alice, password: ..., objectId: <GUID>}
//	    groups:                         # security groups; tokens for AKS carry them
//	      - name: aks-admins
//	        members: [alice@contoso.com, other-group, ci, kubelet]  # UPNs, group, app or identity names, object IDs
//
// Parse reports a bad file with the line and the field at fault, e.g.
//
//	world.yaml:14: tenants[0].subscriptions[0].resourceGroups[0].scaleSets[0].capacity: must be between 1 and 1000, got 0
//
// World.State converts a valid world into the cloud's initial State. IDs not
// given in the file are derived deterministically from names, so the same
// file always yields the same client and object IDs.
package world
