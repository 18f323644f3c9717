/** The ccrescue version, as package.json states it. */
export const CCRESCUE_VERSION = '0.1.0';
