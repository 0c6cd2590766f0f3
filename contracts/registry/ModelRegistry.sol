// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IdentityRegistry} from "../identity/IdentityRegistry.sol";

/**
 * @title ModelRegistry
 * @dev Which exact model is live, who published it, what it came from, who approved it.
 *
 * Models are named; each has an append-only list of versions (1, 2, ...). A version records
 * its artifact's sha256 and CID, format, SPDX licence, the CID of its manifest (framework,
 * schemas, preprocessing, model card), its parent version, the publishing identity and that
 * identity's EIP-712 signature over all of these. An artifact hash is registered at most
 * once across the whole registry.
 *
 * Identities are ERC-1056 (did:ethr) identities in the {IdentityRegistry}: an identity acts
 * through its current owner key or a live `sigAuth` delegate, and signs manifests with its
 * owner key or a live `veriKey` delegate, so rotating or revoking a key takes effect at once.
 *
 * Per-model roles (`MODEL_OWNER_ROLE`, `MODEL_PUBLISHER_ROLE`) are granted to identities by
 * the model's owners. Named channels (`production`, `staging`, ...) point at versions and
 * only `GOVERNANCE_ROLE` (the timelock) moves them, citing an evaluation report. The
 * `GUARDIAN_ROLE` can pause a model or revoke a version (which clears any channel pointing
 * at it) but can never move a channel. The timelock is the only admin.
 */
contract ModelRegistry is AccessControl, EIP712 {
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant MODEL_OWNER_ROLE = keccak256("MODEL_OWNER_ROLE");
    bytes32 public constant MODEL_PUBLISHER_ROLE = keccak256("MODEL_PUBLISHER_ROLE");

    /// @dev ERC-1056 delegate type of keys that sign manifests for an identity.
    bytes32 public constant SIGNING_DELEGATE_TYPE = "veriKey";
    /// @dev ERC-1056 delegate type of keys that send transactions for an identity.
    bytes32 public constant ACTING_DELEGATE_TYPE = "sigAuth";

    bytes32 public constant MANIFEST_TYPEHASH = keccak256(
        "ModelManifest(string model,bytes32 artifactSha256,bytes artifactCid,string format,string license,bytes metadataCid,uint256 parentVersion,address publisher)"
    );

    bytes32 private constant _PRODUCTION = keccak256("production");
    bytes32 private constant _STAGING = keccak256("staging");

    enum VersionStatus {
        None,
        Registered,
        Staged,
        Production,
        Deprecated,
        Revoked
    }

    /// @dev What a publisher submits and signs (besides the model name and its identity).
    struct VersionInput {
        bytes32 artifactSha256;
        bytes artifactCid;
        string format;
        string license;
        bytes metadataCid;
        uint256 parentVersion;
    }

    struct ModelVersion {
        bytes32 artifactSha256;
        bytes artifactCid;
        string format;
        string license;
        bytes metadataCid;
        uint256 parentVersion;
        address publisher;
        address signer;
        uint64 registeredBlock;
        VersionStatus status;
        bytes signature;
    }

    struct ModelInfo {
        string name;
        uint64 createdBlock;
        uint64 versionCount;
        bool paused;
    }

    struct ArtifactRef {
        bytes32 modelId;
        uint256 version;
    }

    /// @dev A version's zk circuit: the deployed verifier, the circuit's commitment to the
    /// weights, and the circuit manifest (settings, keys, compiled circuit, SRS hash) in the
    /// content store. With `weightsInKey` false the weights are hashed inside the circuit and
    /// `weightCommitment` (a BN254 field element) is the proofs' second public instance. With
    /// it true the weights are constants of the circuit, so the verifying key the verifier
    /// embeds commits to them; `weightCommitment` is then the keccak256 of that key and the
    /// proofs' instances are the input hash and the logits only.
    struct Circuit {
        address verifier;
        uint256 weightCommitment;
        bytes32 manifestSha256;
        bytes manifestCid;
        bool weightsInKey;
    }

    IdentityRegistry private immutable _identities;

    mapping(bytes32 modelId => ModelInfo) private _models;
    mapping(bytes32 modelId => mapping(uint256 version => ModelVersion)) private _versions;
    mapping(bytes32 modelId => mapping(bytes32 channelHash => uint256 version)) private _channels;
    mapping(bytes32 modelId => string[] channelNames) private _channelNames;
    mapping(bytes32 modelId => mapping(bytes32 role => mapping(address identity => bool))) private _modelRoles;
    mapping(bytes32 artifactSha256 => ArtifactRef) private _artifacts;
    mapping(bytes32 modelId => mapping(uint256 version => Circuit)) private _circuits;

    /// @dev Model `modelId` was created with `owner` as its first owner and publisher.
    event ModelCreated(bytes32 indexed modelId, string name, address indexed owner);
    /// @dev `identity` was granted per-model `role` by `grantedBy` (an owner identity).
    event ModelRoleGranted(bytes32 indexed modelId, bytes32 indexed role, address indexed identity, address grantedBy);
    /// @dev `identity` lost per-model `role`.
    event ModelRoleRevoked(bytes32 indexed modelId, bytes32 indexed role, address indexed identity, address revokedBy);
    /// @dev A version was appended.
    event ModelVersionRegistered(
        bytes32 indexed modelId,
        uint256 indexed version,
        bytes32 indexed artifactSha256,
        address publisher,
        address signer,
        uint256 parentVersion
    );
    /// @dev A version's status changed.
    event VersionStatusChanged(bytes32 indexed modelId, uint256 indexed version, VersionStatus status);
    /// @dev Governance pointed `channel` at `version` (from `previousVersion`), citing `evaluationReport`.
    event ChannelMoved(
        bytes32 indexed modelId,
        bytes32 indexed channelHash,
        uint256 indexed version,
        string channel,
        uint256 previousVersion,
        bytes evaluationReport
    );
    /// @dev `channel` no longer points anywhere (its version was revoked).
    event ChannelCleared(bytes32 indexed modelId, bytes32 indexed channelHash, uint256 indexed version, string channel);
    /// @dev The guardian or governance revoked a version.
    event VersionRevoked(bytes32 indexed modelId, uint256 indexed version, address indexed by, string reason);
    /// @dev The model stopped accepting versions and channel moves.
    event ModelPaused(bytes32 indexed modelId, address indexed by);
    /// @dev Governance lifted a pause.
    event ModelUnpaused(bytes32 indexed modelId, address indexed by);
    /// @dev `publisher` bound zk circuit `manifestCid` (verifier, weight commitment) to a version.
    event CircuitBound(
        bytes32 indexed modelId,
        uint256 indexed version,
        address verifier,
        uint256 weightCommitment,
        bytes manifestCid,
        address indexed publisher
    );

    error ModelRegistryInvalidName(string name);
    error ModelRegistryModelExists(bytes32 modelId);
    error ModelRegistryUnknownModel(bytes32 modelId);
    error ModelRegistryUnknownVersion(bytes32 modelId, uint256 version);
    error ModelRegistryUnknownModelRole(bytes32 role);
    error ModelRegistryNotActor(address identity, address actor);
    error ModelRegistryMissingModelRole(bytes32 modelId, bytes32 role, address identity);
    error ModelRegistryModelIsPaused(bytes32 modelId);
    error ModelRegistryModelNotPaused(bytes32 modelId);
    error ModelRegistryEmptyField(string field);
    error ModelRegistryArtifactAlreadyRegistered(bytes32 artifactSha256, bytes32 modelId, uint256 version);
    error ModelRegistryVersionIsRevoked(bytes32 modelId, uint256 version);
    error ModelRegistryInvalidManifestSignature(address publisher, address signer);
    error ModelRegistryInvalidChannel(string channel);
    error ModelRegistryEvaluationReportMissing(bytes32 modelId, uint256 version);
    error ModelRegistryCircuitBound(bytes32 modelId, uint256 version);

    /**
     * @dev `timelock` becomes the only admin and holder of `GOVERNANCE_ROLE`; `guardian`
     * (0x0 for none) gets `GUARDIAN_ROLE`.
     */
    constructor(IdentityRegistry identities, address timelock, address guardian) EIP712("LedgerLearn ModelRegistry", "1") {
        _identities = identities;
        _grantRole(DEFAULT_ADMIN_ROLE, timelock);
        _grantRole(GOVERNANCE_ROLE, timelock);
        if (guardian != address(0)) _grantRole(GUARDIAN_ROLE, guardian);
    }

    // --- views -------------------------------------------------------------------------

    /// @dev The identity registry whose keys act and sign for identities.
    function identityRegistry() external view returns (IdentityRegistry) {
        return _identities;
    }

    /// @dev The id of the model named `name`.
    function modelId(string calldata name) public pure returns (bytes32) {
        return keccak256(bytes(name));
    }

    /// @dev The model's name, creation block, number of versions and pause flag.
    function getModel(bytes32 id) external view returns (ModelInfo memory) {
        _requireModel(id);
        return _models[id];
    }

    /// @dev Everything recorded about one version.
    function getVersion(bytes32 id, uint256 version) external view returns (ModelVersion memory) {
        _requireVersion(id, version);
        return _versions[id][version];
    }

    /// @dev A version's status and artifact hash (cheaper than {getVersion} for contracts).
    function versionState(bytes32 id, uint256 version) external view returns (VersionStatus, bytes32) {
        _requireVersion(id, version);
        ModelVersion storage v = _versions[id][version];
        return (v.status, v.artifactSha256);
    }

    /// @dev A version's status alone, `None` for a version that does not exist (one read).
    function versionStatus(bytes32 id, uint256 version) external view returns (VersionStatus) {
        return _versions[id][version].status;
    }

    /// @dev The version `channel` points at, 0 if none.
    function channelVersion(bytes32 id, string calldata channel) external view returns (uint256) {
        return _channels[id][keccak256(bytes(channel))];
    }

    /// @dev Every channel name the model has used.
    function channelNames(bytes32 id) external view returns (string[] memory) {
        return _channelNames[id];
    }

    /// @dev Where an artifact hash is registered; version 0 if nowhere.
    function versionOfArtifact(bytes32 artifactSha256) external view returns (bytes32, uint256) {
        ArtifactRef storage ref = _artifacts[artifactSha256];
        return (ref.modelId, ref.version);
    }

    /// @dev The zk circuit bound to a version (a zero verifier if none).
    function circuitOf(bytes32 id, uint256 version) external view returns (Circuit memory) {
        return _circuits[id][version];
    }

    /// @dev Whether `identity` holds per-model `role` on model `id`.
    function hasModelRole(bytes32 id, bytes32 role, address identity) public view returns (bool) {
        return _modelRoles[id][role][identity];
    }

    /// @dev Whether `actor` may send transactions for `identity` (owner key or live `sigAuth` delegate).
    function isActor(address identity, address actor) public view returns (bool) {
        return actor == _identities.identityOwner(identity)
            || _identities.validDelegate(identity, ACTING_DELEGATE_TYPE, actor);
    }

    /// @dev Whether `signer` may sign manifests for `identity` (owner key or live `veriKey` delegate).
    function isSigner(address identity, address signer) public view returns (bool) {
        return signer == _identities.identityOwner(identity)
            || _identities.validDelegate(identity, SIGNING_DELEGATE_TYPE, signer);
    }

    /// @dev The EIP-712 digest a publisher signs for `input` of model `name`.
    function manifestDigest(string calldata name, VersionInput calldata input, address publisher)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    MANIFEST_TYPEHASH,
                    keccak256(bytes(name)),
                    input.artifactSha256,
                    keccak256(input.artifactCid),
                    keccak256(bytes(input.format)),
                    keccak256(bytes(input.license)),
                    keccak256(input.metadataCid),
                    input.parentVersion,
                    publisher
                )
            )
        );
    }

    // --- model owners ------------------------------------------------------------------

    /**
     * @dev Creates model `name` owned (and publishable) by identity `owner`.
     *
     * Requirements:
     * - `name` is 1 to 64 bytes and not taken;
     * - the caller acts for `owner`.
     *
     * Emits {ModelCreated} and two {ModelRoleGranted} events.
     */
    function createModel(string calldata name, address owner) external returns (bytes32 id) {
        if (bytes(name).length == 0 || bytes(name).length > 64) revert ModelRegistryInvalidName(name);
        id = keccak256(bytes(name));
        if (_models[id].createdBlock != 0) revert ModelRegistryModelExists(id);
        _requireActor(owner);
        _models[id] = ModelInfo({name: name, createdBlock: uint64(block.number), versionCount: 0, paused: false});
        emit ModelCreated(id, name, owner);
        _setModelRole(id, MODEL_OWNER_ROLE, owner, true, owner);
        _setModelRole(id, MODEL_PUBLISHER_ROLE, owner, true, owner);
    }

    /**
     * @dev Grants per-model `role` to `identity`, acting as owner identity `asOwner`.
     *
     * Requirements: the caller acts for `asOwner`, which owns the model.
     *
     * Emits a {ModelRoleGranted} event (none if already held).
     */
    function grantModelRole(bytes32 id, bytes32 role, address identity, address asOwner) external {
        _requireModelOwner(id, asOwner);
        _setModelRole(id, role, identity, true, asOwner);
    }

    /// @dev Revokes per-model `role` from `identity`; as {grantModelRole}.
    function revokeModelRole(bytes32 id, bytes32 role, address identity, address asOwner) external {
        _requireModelOwner(id, asOwner);
        _setModelRole(id, role, identity, false, asOwner);
    }

    // --- publishers --------------------------------------------------------------------

    /**
     * @dev Appends a version to model `name`, published by identity `publisher`, whose
     * signing key signed the manifest. Anyone may relay it.
     *
     * Requirements:
     * - the model exists and is not paused; `publisher` holds `MODEL_PUBLISHER_ROLE`;
     * - sha256, CIDs and format are not empty; the sha256 is registered nowhere yet;
     * - `parentVersion` is 0 or an existing, unrevoked version of this model;
     * - `signature` is an EIP-712 signature of {manifestDigest} by a key that may sign for
     *   `publisher` now.
     *
     * Emits {ModelVersionRegistered} and {VersionStatusChanged}.
     */
    function registerVersion(
        string calldata name,
        VersionInput calldata input,
        address publisher,
        bytes calldata signature
    ) external returns (uint256 version) {
        bytes32 id = keccak256(bytes(name));
        _requireModel(id);
        _requireNotPaused(id);
        if (!_modelRoles[id][MODEL_PUBLISHER_ROLE][publisher]) {
            revert ModelRegistryMissingModelRole(id, MODEL_PUBLISHER_ROLE, publisher);
        }
        _checkInput(id, input);
        address signer = ECDSA.recover(manifestDigest(name, input, publisher), signature);
        if (!isSigner(publisher, signer)) revert ModelRegistryInvalidManifestSignature(publisher, signer);

        version = _append(id, input, publisher, signer, signature, VersionStatus.Registered);
    }

    /**
     * @dev Appends a version to model `name` published by the caller itself, without a
     * signature: the transaction is the caller's authorisation. This is how protocol
     * contracts that hold `MODEL_PUBLISHER_ROLE` for a model (the TrainingCoordinator,
     * granted by the model's owner) register what they produced; `signer` is the caller and
     * `signature` is empty. Such a version starts `Staged`: a candidate awaiting governance,
     * which alone can point a channel at it.
     *
     * Requirements: as {registerVersion}, with the caller as publisher.
     *
     * Emits {ModelVersionRegistered} and {VersionStatusChanged}.
     */
    function registerOwnVersion(string calldata name, VersionInput calldata input) external returns (uint256 version) {
        bytes32 id = keccak256(bytes(name));
        _requireModel(id);
        _requireNotPaused(id);
        if (!_modelRoles[id][MODEL_PUBLISHER_ROLE][msg.sender]) {
            revert ModelRegistryMissingModelRole(id, MODEL_PUBLISHER_ROLE, msg.sender);
        }
        _checkInput(id, input);
        version = _append(id, input, msg.sender, msg.sender, "", VersionStatus.Staged);
    }

    // --- governance --------------------------------------------------------------------

    /**
     * @dev Points `channel` of model `id` at `version`, citing the CID of an evaluation
     * report. `production` makes the version `Production` and the one it replaces
     * `Deprecated`; `staging` makes it `Staged` (unless in production).
     *
     * Requirements:
     * - the caller has `GOVERNANCE_ROLE` (the timelock);
     * - the model is not paused; the version exists and is not revoked;
     * - `channel` is 1 to 32 bytes; `evaluationReport` is not empty.
     *
     * Emits {ChannelMoved} and {VersionStatusChanged} events.
     */
    function moveChannel(bytes32 id, string calldata channel, uint256 version, bytes calldata evaluationReport)
        external
        onlyRole(GOVERNANCE_ROLE)
    {
        _requireVersion(id, version);
        _requireNotPaused(id);
        if (bytes(channel).length == 0 || bytes(channel).length > 32) revert ModelRegistryInvalidChannel(channel);
        if (evaluationReport.length == 0) revert ModelRegistryEvaluationReportMissing(id, version);
        ModelVersion storage target = _versions[id][version];
        if (target.status == VersionStatus.Revoked) revert ModelRegistryVersionIsRevoked(id, version);

        bytes32 channelHash = keccak256(bytes(channel));
        uint256 previous = _channels[id][channelHash];
        if (previous == 0 && !_channelUsed(id, channelHash)) _channelNames[id].push(channel);
        _channels[id][channelHash] = version;
        emit ChannelMoved(id, channelHash, version, channel, previous, evaluationReport);

        if (channelHash == _PRODUCTION) {
            if (previous != 0 && previous != version) _setStatus(id, previous, VersionStatus.Deprecated);
            _setStatus(id, version, VersionStatus.Production);
        } else if (channelHash == _STAGING) {
            if (previous != 0 && previous != version && _versions[id][previous].status == VersionStatus.Staged) {
                _setStatus(id, previous, VersionStatus.Registered);
            }
            if (target.status != VersionStatus.Production) _setStatus(id, version, VersionStatus.Staged);
        }
    }

    /**
     * @dev Lifts a pause.
     *
     * Requirements: the caller has `GOVERNANCE_ROLE`; the model is paused.
     *
     * Emits a {ModelUnpaused} event.
     */
    function unpauseModel(bytes32 id) external onlyRole(GOVERNANCE_ROLE) {
        _requireModel(id);
        if (!_models[id].paused) revert ModelRegistryModelNotPaused(id);
        _models[id].paused = false;
        emit ModelUnpaused(id, msg.sender);
    }

    // --- guardian (or governance) ------------------------------------------------------

    /**
     * @dev Stops new versions and channel moves for model `id`.
     *
     * Requirements: the caller has `GUARDIAN_ROLE` or `GOVERNANCE_ROLE`; not already paused.
     *
     * Emits a {ModelPaused} event.
     */
    function pauseModel(bytes32 id) external {
        _requireGuardianOrGovernance();
        _requireModel(id);
        _requireNotPaused(id);
        _models[id].paused = true;
        emit ModelPaused(id, msg.sender);
    }

    /**
     * @dev Revokes a version for good and clears every channel that points at it.
     *
     * Requirements: the caller has `GUARDIAN_ROLE` or `GOVERNANCE_ROLE`; the version exists
     * and is not already revoked.
     *
     * Emits {VersionRevoked}, {VersionStatusChanged} and a {ChannelCleared} per channel.
     */
    function revokeVersion(bytes32 id, uint256 version, string calldata reason) external {
        _requireGuardianOrGovernance();
        _requireVersion(id, version);
        if (_versions[id][version].status == VersionStatus.Revoked) revert ModelRegistryVersionIsRevoked(id, version);
        _setStatus(id, version, VersionStatus.Revoked);
        emit VersionRevoked(id, version, msg.sender, reason);
        string[] storage names = _channelNames[id];
        for (uint256 i = 0; i < names.length; ++i) {
            bytes32 channelHash = keccak256(bytes(names[i]));
            if (_channels[id][channelHash] == version) {
                _channels[id][channelHash] = 0;
                emit ChannelCleared(id, channelHash, version, names[i]);
            }
        }
    }

    // --- internals ---------------------------------------------------------------------

    /**
     * @dev Binds zk circuit `circuit` to `version` of model `id`, once: the oracle's proven
     * mode accepts answers only with a proof this verifier accepts for this weight commitment.
     * Anyone can check the binding: the manifest's files rebuild the verifier and the
     * commitment from the version's artifact.
     *
     * Requirements: the caller acts for `publisher`, which owns or publishes the model; the
     * version exists and is not revoked; no circuit is bound to it yet; the verifier has code;
     * the commitment, manifest hash and CID are set.
     *
     * Emits {CircuitBound}.
     */
    function bindCircuit(bytes32 id, uint256 version, Circuit calldata circuit, address publisher) external {
        _requireVersion(id, version);
        _requireActor(publisher);
        if (!_modelRoles[id][MODEL_PUBLISHER_ROLE][publisher] && !_modelRoles[id][MODEL_OWNER_ROLE][publisher]) {
            revert ModelRegistryMissingModelRole(id, MODEL_PUBLISHER_ROLE, publisher);
        }
        if (_versions[id][version].status == VersionStatus.Revoked) revert ModelRegistryVersionIsRevoked(id, version);
        if (_circuits[id][version].verifier != address(0)) revert ModelRegistryCircuitBound(id, version);
        if (circuit.verifier.code.length == 0) revert ModelRegistryEmptyField("verifier");
        if (circuit.weightCommitment == 0) revert ModelRegistryEmptyField("weightCommitment");
        if (circuit.manifestSha256 == bytes32(0)) revert ModelRegistryEmptyField("manifestSha256");
        if (circuit.manifestCid.length == 0) revert ModelRegistryEmptyField("manifestCid");
        _circuits[id][version] = circuit;
        emit CircuitBound(id, version, circuit.verifier, circuit.weightCommitment, circuit.manifestCid, publisher);
    }

    function _checkInput(bytes32 id, VersionInput calldata input) private view {
        if (input.artifactSha256 == bytes32(0)) revert ModelRegistryEmptyField("artifactSha256");
        if (input.artifactCid.length == 0) revert ModelRegistryEmptyField("artifactCid");
        if (input.metadataCid.length == 0) revert ModelRegistryEmptyField("metadataCid");
        if (bytes(input.format).length == 0) revert ModelRegistryEmptyField("format");
        if (bytes(input.license).length == 0) revert ModelRegistryEmptyField("license");
        ArtifactRef storage existing = _artifacts[input.artifactSha256];
        if (existing.version != 0) {
            revert ModelRegistryArtifactAlreadyRegistered(input.artifactSha256, existing.modelId, existing.version);
        }
        if (input.parentVersion != 0) {
            _requireVersion(id, input.parentVersion);
            if (_versions[id][input.parentVersion].status == VersionStatus.Revoked) {
                revert ModelRegistryVersionIsRevoked(id, input.parentVersion);
            }
        }
    }

    function _append(
        bytes32 id,
        VersionInput calldata input,
        address publisher,
        address signer,
        bytes memory signature,
        VersionStatus status
    ) private returns (uint256 version) {
        version = ++_models[id].versionCount;
        _versions[id][version] = ModelVersion({
            artifactSha256: input.artifactSha256,
            artifactCid: input.artifactCid,
            format: input.format,
            license: input.license,
            metadataCid: input.metadataCid,
            parentVersion: input.parentVersion,
            publisher: publisher,
            signer: signer,
            registeredBlock: uint64(block.number),
            status: status,
            signature: signature
        });
        _artifacts[input.artifactSha256] = ArtifactRef(id, version);
        emit ModelVersionRegistered(id, version, input.artifactSha256, publisher, signer, input.parentVersion);
        emit VersionStatusChanged(id, version, status);
    }

    function _setStatus(bytes32 id, uint256 version, VersionStatus status) private {
        _versions[id][version].status = status;
        emit VersionStatusChanged(id, version, status);
    }

    function _setModelRole(bytes32 id, bytes32 role, address identity, bool granted, address by) private {
        if (role != MODEL_OWNER_ROLE && role != MODEL_PUBLISHER_ROLE) revert ModelRegistryUnknownModelRole(role);
        if (_modelRoles[id][role][identity] == granted) return;
        _modelRoles[id][role][identity] = granted;
        if (granted) emit ModelRoleGranted(id, role, identity, by);
        else emit ModelRoleRevoked(id, role, identity, by);
    }

    function _channelUsed(bytes32 id, bytes32 channelHash) private view returns (bool) {
        string[] storage names = _channelNames[id];
        for (uint256 i = 0; i < names.length; ++i) {
            if (keccak256(bytes(names[i])) == channelHash) return true;
        }
        return false;
    }

    function _requireActor(address identity) private view {
        if (!isActor(identity, msg.sender)) revert ModelRegistryNotActor(identity, msg.sender);
    }

    function _requireModelOwner(bytes32 id, address asOwner) private view {
        _requireModel(id);
        _requireActor(asOwner);
        if (!_modelRoles[id][MODEL_OWNER_ROLE][asOwner]) {
            revert ModelRegistryMissingModelRole(id, MODEL_OWNER_ROLE, asOwner);
        }
    }

    function _requireGuardianOrGovernance() private view {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(GOVERNANCE_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GUARDIAN_ROLE);
        }
    }

    function _requireModel(bytes32 id) private view {
        if (_models[id].createdBlock == 0) revert ModelRegistryUnknownModel(id);
    }

    function _requireNotPaused(bytes32 id) private view {
        if (_models[id].paused) revert ModelRegistryModelIsPaused(id);
    }

    function _requireVersion(bytes32 id, uint256 version) private view {
        _requireModel(id);
        if (version == 0 || version > _models[id].versionCount) revert ModelRegistryUnknownVersion(id, version);
    }
}
