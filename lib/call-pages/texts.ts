import type { Lang } from '../http/lang';

/** Texts of the call stage that the server renders (both the resident's page and the agent's dashboard). */
export const STAGE = {
  nl: {
    controls: 'Bediening van het gesprek',
    mute: 'Microfoon uit',
    camera: 'Camera uit',
    hangUp: 'Ophangen',
    quality: 'Verbinding:',
    qualityUnknown: 'wordt gemeten',
    reconnecting: 'Verbinding herstellen…',
    localVideo: 'Uw eigen beeld',
  },
  en: {
    controls: 'Call controls',
    mute: 'Microphone off',
    camera: 'Camera off',
    hangUp: 'Hang up',
    quality: 'Connection:',
    qualityUnknown: 'being measured',
    reconnecting: 'Restoring the connection…',
    localVideo: 'Your own video',
  },
} satisfies Record<Lang, Record<string, string>>;

/** The resident's page. Dutch uses the formal "u". */
export const RESIDENT = {
  nl: {
    title: 'Videogesprek',
    deviceHeading: 'Camera en microfoon controleren',
    deviceIntro: 'Hieronder ziet u uzelf. Kies zo nodig een andere camera of microfoon. Daarna gaat u naar de wachtkamer.',
    camera: 'Camera',
    microphone: 'Microfoon',
    start: 'Naar het gesprek',
    retry: 'Opnieuw proberen',
    waitingHeading: 'De medewerker komt zo bij u',
    waitingText: 'U bent in de wachtkamer. Het gesprek begint vanzelf zodra de medewerker er is. Houd deze pagina open.',
    callHeading: 'Uw gesprek met de gemeente',
    remoteVideo: 'Beeld van de medewerker',
    endedHeading: 'Het gesprek is beëindigd',
    endedText: 'Bedankt voor het gesprek. U kunt dit venster nu sluiten.',
  },
  en: {
    title: 'Video call',
    deviceHeading: 'Check your camera and microphone',
    deviceIntro: 'Below you see yourself. Choose another camera or microphone if needed. Then continue to the waiting room.',
    camera: 'Camera',
    microphone: 'Microphone',
    start: 'Continue to the call',
    retry: 'Try again',
    waitingHeading: 'The employee will be with you shortly',
    waitingText: 'You are in the waiting room. The call starts by itself as soon as the employee is there. Please keep this page open.',
    callHeading: 'Your call with the municipality',
    remoteVideo: "The employee's video",
    endedHeading: 'The call has ended',
    endedText: 'Thank you. You can close this window now.',
  },
} satisfies Record<Lang, Record<string, string>>;

/** Messages the browser shows or announces while the call runs; handed to the script as JSON. */
export const CLIENT = {
  nl: {
    permissionDenied:
      'U heeft geen toestemming gegeven voor de camera en microfoon. Sta dit toe via het slotje of camera-icoon in de adresbalk van uw browser en kies daarna "Opnieuw proberen".',
    noCamera: 'Wij vinden geen camera. U kunt deelnemen met alleen geluid, of een camera aansluiten en "Opnieuw proberen" kiezen.',
    noDevices: 'Wij vinden geen camera en geen microfoon. Sluit er een aan en kies "Opnieuw proberen".',
    deviceBusy: 'Uw camera of microfoon kon niet worden gestart. Misschien gebruikt een ander programma hem. Sluit dat programma en kies "Opnieuw proberen".',
    unsupported: 'Uw browser kan niet videobellen. Gebruik een recente versie van Chrome, Edge, Firefox of Safari.',
    ready: 'Camera en microfoon werken.',
    connecting: 'Verbinden met het gesprek…',
    waiting: 'U bent in de wachtkamer.',
    residentJoined: 'De inwoner is in het gesprek.',
    agentJoined: 'De medewerker is in het gesprek.',
    residentLeft: 'De inwoner heeft het gesprek verlaten.',
    agentLeft: 'De medewerker heeft het gesprek verlaten.',
    reconnected: 'Verbinding hersteld.',
    reconnecting: 'Verbinding herstellen…',
    muted: 'Uw microfoon staat uit.',
    unmuted: 'Uw microfoon staat aan.',
    cameraOff: 'Uw camera staat uit.',
    cameraOn: 'Uw camera staat aan.',
    ended: 'Het gesprek is beëindigd.',
    replaced: 'Het gesprek is in een ander venster geopend. Dit venster doet niet meer mee.',
    failed: 'Het gesprek kon niet worden gestart. Probeert u het over een paar minuten opnieuw.',
    good: 'goed',
    fair: 'matig',
    poor: 'slecht',
    unknown: 'wordt gemeten',
    remoteCameraOff: 'Camera uit',
    unmuteRemote: 'Klik om geluid aan te zetten',
    noConnection:
      'Er komt geen verbinding voor beeld en geluid tot stand. Uw netwerk laat videobellen waarschijnlijk niet door. Probeer een ander netwerk, bijvoorbeeld mobiele data in plaats van wifi, of een andere browser.',
    noMedia: 'Er komt geen beeld of geluid van de andere kant binnen. Wij proberen het opnieuw. Blijft dit zo, probeer dan een ander netwerk of een andere browser.',
    cameraDenied:
      'Uw microfoon werkt, maar u heeft de camera niet toegestaan. U doet mee met alleen geluid. Wilt u wel in beeld? Sta de camera toe via het slotje of camera-icoon in de adresbalk en kies "Opnieuw proberen".',
    noMicrophone:
      'Uw camera werkt, maar wij vinden geen microfoon. Zonder microfoon kan de medewerker u niet horen. Sluit een microfoon of headset aan en kies "Opnieuw proberen", of open de link uit uw e-mail op een telefoon of tablet.',
  },
  en: {
    permissionDenied:
      'You did not allow the camera and microphone. Allow them through the padlock or camera icon in the address bar of your browser, then choose "Try again".',
    noCamera: 'We cannot find a camera. You can join with sound only, or connect a camera and choose "Try again".',
    noDevices: 'We cannot find a camera or a microphone. Connect one and choose "Try again".',
    deviceBusy: 'Your camera or microphone could not be started. Another program may be using it. Close that program and choose "Try again".',
    unsupported: 'Your browser cannot make video calls. Please use a recent version of Chrome, Edge, Firefox or Safari.',
    ready: 'Camera and microphone work.',
    connecting: 'Connecting to the call…',
    waiting: 'You are in the waiting room.',
    residentJoined: 'The resident joined the call.',
    agentJoined: 'The employee joined the call.',
    residentLeft: 'The resident left the call.',
    agentLeft: 'The employee left the call.',
    reconnected: 'Connection restored.',
    reconnecting: 'Restoring the connection…',
    muted: 'Your microphone is off.',
    unmuted: 'Your microphone is on.',
    cameraOff: 'Your camera is off.',
    cameraOn: 'Your camera is on.',
    ended: 'The call has ended.',
    replaced: 'The call was opened in another window. This window no longer takes part.',
    failed: 'The call could not be started. Please try again in a few minutes.',
    good: 'good',
    fair: 'fair',
    poor: 'poor',
    unknown: 'being measured',
    remoteCameraOff: 'Camera off',
    unmuteRemote: 'Click to turn on the sound',
    noConnection:
      'No connection for sound and video can be made. Your network probably blocks video calls. Try another network, for example mobile data instead of Wi-Fi, or another browser.',
    noMedia: 'No sound or video arrives from the other side. We keep trying. If this stays so, try another network or another browser.',
    cameraDenied:
      'Your microphone works, but you did not allow the camera. You take part with sound only. Want to be seen? Allow the camera through the padlock or camera icon in the address bar, then choose "Try again".',
    noMicrophone:
      'Your camera works, but we cannot find a microphone. Without one the employee cannot hear you. Connect a microphone or headset and choose "Try again", or open the link from your e-mail on a phone or tablet.',
  },
} satisfies Record<Lang, Record<string, string>>;

export type ClientTexts = (typeof CLIENT)['nl'];
